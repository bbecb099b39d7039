import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { ContainerError } from './errors';
import { SOCKET_NAME_ROOM, SUN_PATH_MAX, StateStore, type ContainerRecord } from './store';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-store-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function record(id: string): ContainerRecord {
  return { ociVersion: '1.2.0', id, status: 'creating', bundle: '/b', rootfs: '/b/rootfs', created: new Date().toISOString(), owner: 'root' };
}

const spec: Spec = { ociVersion: '1.2.0' };

test('a short container directory is the sandbox directory itself', async () => {
  const store = new StateStore(path.join(dir, 'root'));
  store.ensureRoot();
  (await store.reserve(record('c1'), spec)).release();
  expect(store.sandboxDir('c1')).toBe(store.dir('c1'));
  expect(fs.readdirSync(store.root)).toEqual(['c1']);
});

test('a directory too long for Unix sockets gets a short alias, removed with it', async () => {
  // Docker's layout: --root <exec-root>/runtime-runc/moby and 64-character ids.
  const store = new StateStore(path.join(dir, 'exec', 'runtime-runc', 'moby'));
  const id = 'a'.repeat(64);
  store.ensureRoot();
  (await store.reserve(record(id), spec)).release();
  const sdir = store.sandboxDir(id);
  expect(sdir).not.toBe(store.dir(id));
  expect(Buffer.byteLength(path.join(sdir, 'x'.repeat(SOCKET_NAME_ROOM - 1)))).toBeLessThanOrEqual(SUN_PATH_MAX);
  expect(fs.realpathSync(sdir)).toBe(fs.realpathSync(store.dir(id)));
  expect(store.list()).toEqual([id]);
  fs.writeFileSync(path.join(sdir, 'probe'), 'x');
  expect(fs.readFileSync(path.join(store.dir(id), 'probe'), 'utf8')).toBe('x');
  store.remove(id);
  expect(fs.readdirSync(store.root)).toEqual([]);
});

test('a --root too long even for the alias is refused by name before anything is written', async () => {
  const store = new StateStore(path.join(dir, 'r'.repeat(SUN_PATH_MAX)));
  store.ensureRoot();
  await expect(store.reserve(record('c1'), spec)).rejects.toThrow(ContainerError);
  await expect(store.reserve(record('c1'), spec)).rejects.toThrow(/--root .*: too long for the sandbox's Unix sockets/);
  expect(fs.readdirSync(store.root)).toEqual([]);
});
