import { dropIgnoredGlobals, endFlagsAfterId, firstCommand } from './argv-scan';
import { filterPsTable } from './commands/ps';

describe('dropIgnoredGlobals', () => {
  test.each([
    [['--criu', '/usr/sbin/criu', 'state', 'x'], ['state', 'x']],
    [['--rootless=auto', '--root', '/r', 'list'], ['--root', '/r', 'list']],
    [['--root', '/r', '--rootless', 'false', 'spec', '--rootless'], ['--root', '/r', 'spec', '--rootless']],
  ])('%j becomes %j', (argv, want) => {
    expect(dropIgnoredGlobals(argv, firstCommand(argv))).toEqual(want);
  });
  test.each([[['--rootless', 'maybe', 'list']], [['--criu']], [['--criu=', 'list']]])('%j is one line of error', (argv) => {
    expect(dropIgnoredGlobals(argv, firstCommand(argv))).toMatch(/^--(criu|rootless)\b[^\n]*$/);
  });
});

describe('endFlagsAfterId', () => {
  const value = new Set(['-f', '--format']);
  test.each([
    [['c1', '-o', 'pid,comm'], ['c1', '--', '-o', 'pid,comm']],
    [['-f', 'json', 'c1'], ['-f', 'json', 'c1']],
    [['--format', 'table', 'c1', '-ef'], ['--format', 'table', 'c1', '--', '-ef']],
    [['c1', '--', '-ef'], ['c1', '--', '-ef']],
  ])('%j becomes %j', (args, want) => {
    expect(endFlagsAfterId(args, value)).toEqual(want);
  });
});

describe('filterPsTable', () => {
  const out = '  PID COMMAND\n    1 init\n   42 sleep\n  420 sh\n';
  test('keeps the header and the lines of the given pids', () => {
    expect(filterPsTable(out, new Set([42]))).toBe('  PID COMMAND\n   42 sleep\n');
  });
  test('refuses an output without a PID column, as runc does', () => {
    expect(() => filterPsTable('COMMAND\nsleep\n', new Set([1]))).toThrow("couldn't find PID field in ps output");
  });
});
