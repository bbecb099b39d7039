import { findFile, getRegs, injectSyscall, nativeSearchDirs, spawnStub, switchThread, checkSwitchArgs } from './ptrace-native';

describe('ptrace-native argument checks', () => {
  test('a missing native file names every path tried', () => {
    const dirs = nativeSearchDirs();
    let msg = '';
    try {
      findFile('nothing.node', ['no/such/nothing.node']);
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^nothing\.node not found \(run make\); tried: /);
    for (const d of dirs) expect(msg).toContain(`${d}/no/such/nothing.node`);
  });

  test('bad arguments are refused before they cross into the addon', () => {
    expect(() => injectSyscall(-1, 9, [])).toThrow(/tid -1: not a thread id/);
    expect(() => injectSyscall(100, 9, [2 ** 60])).toThrow(/bad arguments/);
    expect(() => injectSyscall(100, 9, [1, 2, 3, 4, 5, 6, 7])).toThrow(/bad arguments/);
    expect(() => getRegs(100, Buffer.alloc(8))).toThrow(/registers: need a Buffer of at least 216 bytes/);
    expect(() => spawnStub(-3)).toThrow(/memfd -3: not a file descriptor/);
    expect(() => checkSwitchArgs(1, Buffer.alloc(216), Buffer.alloc(128), new Int32Array(1))).toThrow(/switch state/);
    expect(typeof switchThread).toBe('function');
  });
});
