import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoaderError, parseShebang, scriptArgv, MAX_INTERPRETER_DEPTH } from './index';

const sb = (s: string | Buffer) => parseShebang(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
function errno(s: string): number | string {
  try { sb(s); return 'no error'; } catch (e) { return e instanceof LoaderError ? e.errno : String(e); }
}

describe('parseShebang', () => {
  test('not a script', () => {
    expect(sb('\x7fELF')).toBeNull();
    expect(sb('#')).toBeNull();
    expect(sb('')).toBeNull();
    expect(sb(' #!/bin/sh')).toBeNull();
  });

  test('interpreter and one argument, blanks trimmed', () => {
    expect(sb('#!/bin/sh\necho hi\n')).toEqual({ interpreter: '/bin/sh', arg: null });
    expect(sb('#! \t/bin/sh  \t\n')).toEqual({ interpreter: '/bin/sh', arg: null });
    expect(sb('#!/usr/bin/env python3\n')).toEqual({ interpreter: '/usr/bin/env', arg: 'python3' });
    expect(sb('#!/usr/bin/env -S  a b \t \n')).toEqual({ interpreter: '/usr/bin/env', arg: '-S  a b' });
    expect(sb('#!/bin/sh\r\n')).toEqual({ interpreter: '/bin/sh\r', arg: null });
    expect(sb('#!/bin/sh')).toEqual({ interpreter: '/bin/sh', arg: null });
    expect(sb('#!/bin/sh\0ignored\n')).toEqual({ interpreter: '/bin/sh', arg: null });
    expect(sb('#!/bin/sh -x\0y\n')).toEqual({ interpreter: '/bin/sh', arg: '-x' });
  });

  test('only the first 256 bytes count', () => {
    const longArg = `#!/bin/sh ${'a'.repeat(300)}\n`;
    expect(sb(longArg)).toEqual({ interpreter: '/bin/sh', arg: 'a'.repeat(255 - 10) });
    expect(errno(`#!/${'x'.repeat(300)}\n`)).toBe(8);
    expect(errno(`#!/${'x'.repeat(250)} arg`)).toBe('no error');
  });

  test('malformed lines are ENOEXEC', () => {
    expect(errno('#!\n')).toBe(8);
    expect(errno('#!   \t \n')).toBe(8);
    expect(errno(`#!${' '.repeat(300)}`)).toBe(8);
  });

  test('scriptArgv', () => {
    expect(scriptArgv({ interpreter: '/bin/sh', arg: '-e' }, './s', ['s', 'a', 'b'])).toEqual(['/bin/sh', '-e', './s', 'a', 'b']);
    expect(scriptArgv({ interpreter: '/bin/sh', arg: null }, '/x/s', ['whatever'])).toEqual(['/bin/sh', '/x/s']);
  });

  test('the host kernel agrees on argv and on the nesting limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tvisor-shebang-'));
    try {
      const scripts: string[] = [];
      writeFileSync(join(dir, 's0'), '#!/bin/echo  one arg \n');
      scripts.push(join(dir, 's0'));
      for (let i = 1; i <= MAX_INTERPRETER_DEPTH; i++) {
        writeFileSync(join(dir, `s${i}`), `#!${scripts[i - 1]}\n`);
        scripts.push(join(dir, `s${i}`));
      }
      scripts.forEach((s) => chmodSync(s, 0o755));
      const first = spawnSync(scripts[0], ['x']);
      if (first.error) throw new Error(`cannot exec a script here: ${first.error.message}`);
      expect(first.stdout.toString()).toBe(`${scriptArgv(sb('#!/bin/echo  one arg \n')!, scripts[0], [scripts[0], 'x']).slice(1).join(' ')}\n`);
      // MAX_INTERPRETER_DEPTH scripts in a chain still run; one more fails with ELOOP.
      expect(spawnSync(scripts[MAX_INTERPRETER_DEPTH - 1], []).status).toBe(0);
      expect((spawnSync(scripts[MAX_INTERPRETER_DEPTH], []).error as NodeJS.ErrnoException | undefined)?.code).toBe('ELOOP');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
