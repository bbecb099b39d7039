import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installRuntime, uninstallRuntime } from './daemon-json';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-daemon-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('install keeps every other key and uninstall restores the original content', () => {
  const file = path.join(dir, 'daemon.json');
  const original = { 'log-level': 'warn', runtimes: { runsc: { path: '/usr/bin/runsc' } }, bridge: 'none' };
  fs.writeFileSync(file, JSON.stringify(original));
  installRuntime(file, 'tvisor', { path: '/opt/tvisor/bin/tvisor' });
  const after = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(after).toEqual({ ...original, runtimes: { runsc: { path: '/usr/bin/runsc' }, tvisor: { path: '/opt/tvisor/bin/tvisor' } } });
  expect(uninstallRuntime(file, 'tvisor')).toBe(true);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(original);
  expect(uninstallRuntime(file, 'tvisor')).toBe(false);
});

test('install creates a missing file and directory; uninstall drops an empty runtimes', () => {
  const file = path.join(dir, 'etc', 'docker', 'daemon.json');
  installRuntime(file, 'tvisor', { path: '/x/tvisor' });
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ runtimes: { tvisor: { path: '/x/tvisor' } } });
  uninstallRuntime(file, 'tvisor');
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({});
});

test('refuses to rewrite a file that is not a JSON object', () => {
  const file = path.join(dir, 'daemon.json');
  fs.writeFileSync(file, '{ broken');
  expect(() => installRuntime(file, 'tvisor', { path: '/x' })).toThrow(/daemon\.json: invalid JSON/);
  expect(fs.readFileSync(file, 'utf8')).toBe('{ broken');
  fs.writeFileSync(file, '[]');
  expect(() => installRuntime(file, 'tvisor', { path: '/x' })).toThrow(/must hold a JSON object/);
});
