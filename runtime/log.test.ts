import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, formatEvent } from './log';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-log-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('json events are one object per line with level, msg and time', async () => {
  const file = path.join(dir, 'log.json');
  const log = createLogger({ file, format: 'json', level: 'info', component: 'gofer' });
  log.info('first', { id: 'c1' });
  log.debug('hidden');
  log.error('second "quoted"\nline');
  await log.close();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.level, l.msg])).toEqual([['info', 'first'], ['error', 'second "quoted"\nline']]);
  expect(lines[0].id).toBe('c1');
  expect(lines[0].component).toBe('gofer');
  for (const l of lines) expect(Number.isNaN(Date.parse(l.time))).toBe(false);
});

test('a debug file receives debug events that the main log filters out', async () => {
  const file = path.join(dir, 'main.log');
  const debugFile = path.join(dir, 'debug.log');
  const log = createLogger({ file, debugFile, level: 'warn' });
  log.debug('detail');
  log.warn('careful');
  await log.close();
  expect(fs.readFileSync(file, 'utf8')).not.toMatch(/detail/);
  expect(fs.readFileSync(file, 'utf8')).toMatch(/level=warn msg="careful"/);
  expect(fs.readFileSync(debugFile, 'utf8')).toMatch(/level=debug msg="detail"/);
});

test('no event, no file', async () => {
  const file = path.join(dir, 'never.log');
  const log = createLogger({ file });
  await log.close();
  expect(fs.existsSync(file)).toBe(false);
});

test('text format quotes values that need it', () => {
  expect(formatEvent('text', 'info', 'hi there', 'T', { id: 'c1', path: '/a b' })).toBe('time="T" level=info msg="hi there" id=c1 path="/a b"');
});
