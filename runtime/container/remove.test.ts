import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeFile, removeTree } from './remove';

describe('removeFile and removeTree', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'remove-')); });
  afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  test('removeFile removes a file and a symbolic link (not its target), and accepts a missing one', () => {
    fs.writeFileSync(path.join(tmp, 'f'), 'x');
    fs.symlinkSync('f', path.join(tmp, 'l'));
    removeFile(path.join(tmp, 'l'));
    expect(fs.readdirSync(tmp)).toEqual(['f']);
    removeFile(path.join(tmp, 'f'));
    removeFile(path.join(tmp, 'missing'));
    expect(fs.readdirSync(tmp)).toEqual([]);
    fs.mkdirSync(path.join(tmp, 'd'));
    expect(() => removeFile(path.join(tmp, 'd'))).toThrow(/EISDIR/);
  });

  test('removeTree removes a tree of files, directories and links without following the links', () => {
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'keep'), 'x');
    const dir = path.join(tmp, 'c1');
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    for (const f of ['state.json', 'lock', 'sub/a', 'sub/deeper/b']) fs.writeFileSync(path.join(dir, f), 'x');
    fs.symlinkSync(outside, path.join(dir, 'sub', 'link'));
    removeTree(dir);
    expect(fs.readdirSync(tmp)).toEqual(['outside']);
    expect(fs.readdirSync(outside)).toEqual(['keep']);
    // A link to a directory as the target itself: the link goes, its directory stays.
    fs.symlinkSync(outside, path.join(tmp, 'alias'));
    removeTree(path.join(tmp, 'alias'));
    expect(fs.readdirSync(tmp)).toEqual(['outside']);
    expect(fs.readdirSync(outside)).toEqual(['keep']);
    removeTree(path.join(tmp, 'missing'));
    fs.symlinkSync(path.join(tmp, 'nowhere'), path.join(tmp, 'dangling'));
    removeTree(path.join(tmp, 'dangling'));
    expect(fs.readdirSync(tmp)).toEqual(['outside']);
    removeTree(path.join(outside, 'keep'));
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
