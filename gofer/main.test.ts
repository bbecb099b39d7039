import { parseGoferArgs, UsageError } from './main';

describe('the gofer command line', () => {
  test('values in both forms, repeated lists, flags and defaults', () => {
    const o = parseGoferArgs(['--root', '/r', '--fd=3', '--export', '/a=/x', '--export-ro=/b=/y', '--export', '/c=/z', '--uid-map', '0:1000:1',
      '--ro', '--confine', '--control', '/s/gofer.sock', '--host-seccomp=log', '--log-format', 'json']);
    expect(o).toEqual({
      root: '/r', fd: '3', export: ['/a=/x', '/c=/z'], 'export-ro': ['/b=/y'], 'uid-map': ['0:1000:1'], 'gid-map': [], ro: true, confine: true,
      control: '/s/gofer.sock', 'host-seccomp': 'log', 'log-format': 'json', debug: false, help: false,
    });
    expect(parseGoferArgs([])).toEqual({ ro: false, export: [], 'export-ro': [], 'uid-map': [], 'gid-map': [], debug: false, 'log-format': 'text', confine: false, help: false });
    expect(parseGoferArgs(['-h']).help).toBe(true);
    expect(parseGoferArgs(['--root=-odd', '--']).root).toBe('-odd');
  });

  test.each([
    [['--nope'], 'unknown option "--nope"'],
    [['-x'], 'unknown option "-x"'],
    [['--constructor', 'x'], 'unknown option "--constructor"'],
    [['/root'], 'unexpected argument "/root": the gofer takes none'],
    [['--', '/root'], 'unexpected argument "/root": the gofer takes none'],
    [['--ro=yes'], '--ro takes no value'],
    [['--root'], '--root needs a value'],
    [['--root', '--ro'], '--root "--ro": a value starting with "-" is given as --root=--ro'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseGoferArgs(argv)).toThrow(new UsageError(message));
  });
});
