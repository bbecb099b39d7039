/**
 * differences.ts: DIFFERENCES.md entries explain a difference only when both sides fit,
 * an unlisted difference is reported, an exact entry whose key no longer differs is
 * stale, and the project's own DIFFERENCES.md parses.
 */
import * as path from 'node:path';
import { compareOutputs, loadDifferences, parseDifferences, parseOutput } from './differences';

const LIST = parseDifferences(`
### * mount[*]
- runc: (any)
- tvisor: ~\`.*9p.*\`
- reason: by design

### b1 uid
- runc: \`0\`
- tvisor: \`1\`
- reason: test

### b1 gid
- runc: \`0\`
- tvisor: \`unreadable\`
- reason: not built yet: item X
`);

test('a difference is explained only when both sides fit an entry', () => {
  const runc = parseOutput('mount[/]: type=ext4\nuid: 0\ngid: 0\nenv.A: 1\n');
  const tvisor = parseOutput('mount[/]: type=9p\nuid: 2\ngid: 0\n');
  const cmp = compareOutputs('b1', runc, tvisor, LIST);
  expect(cmp.explained.map((e) => e.mismatch.key)).toEqual(['mount[/]']);
  expect(cmp.unlisted).toEqual([{ key: 'uid', runc: '0', tvisor: '2' }, { key: 'env.A', runc: '1', tvisor: undefined }]);
});

test('a "not built yet" entry whose tvisor side changed is reported, not failed; another entry must fit', () => {
  const cmp = compareOutputs('b1', parseOutput('gid: 0\nuid: 0\n'), parseOutput('gid: 7\nuid: 7\n'), LIST);
  expect(cmp.changed.map((c) => [c.mismatch.key, c.entry.heading])).toEqual([['gid', 'b1 gid']]);
  expect(cmp.unlisted.map((m) => m.key)).toEqual(['uid']);
});

test('an exact entry whose key no longer differs is stale, not a failure', () => {
  const cmp = compareOutputs('b1', parseOutput('uid: 0\n'), parseOutput('uid: 0\n'), LIST);
  expect(cmp.unlisted).toEqual([]);
  expect(cmp.stale.map((s) => s.entry.heading)).toEqual(['b1 uid']);
});

test('a malformed entry and a repeated key are refused', () => {
  expect(() => parseDifferences('### b k\n- runc: (any)\n- reason: x\n')).toThrow(/no "- tvisor:" line/);
  expect(() => parseDifferences('### b k\n- runc: bare\n- tvisor: (any)\n- reason: x\n')).toThrow(/not `text`/);
  expect(() => parseOutput('a: 1\na: 2\n')).toThrow(/twice/);
});

test('DIFFERENCES.md parses and gives every entry a reason', () => {
  const list = loadDifferences(path.join(__dirname, 'DIFFERENCES.md'));
  expect(list.length).toBeGreaterThan(10);
  expect(list.filter((d) => d.reason === '' || d.reason === '?')).toEqual([]);
});
