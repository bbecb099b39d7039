import * as fs from 'node:fs';
import { pipeCloexec } from '../../native/spawn';
import { PipeReader } from './pipe-reader';

/** isOpen tells whether `fd` is an open descriptor of this process. */
const isOpen = (fd: number): boolean => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('PipeReader', () => {
  test('hands every chunk as text, then the end once, and closes its descriptor', async () => {
    const [r, w] = pipeCloexec();
    let text = '';
    const ends: (Error | undefined)[] = [];
    const ended = new Promise<void>((resolve) => {
      new PipeReader(r, (t) => { text += t; }, (e) => { ends.push(e); resolve(); });
    });
    fs.writeSync(w, 'ok\n');
    await tick();
    // A character split between two writes (and so two reads) arrives whole.
    fs.writeSync(w, Buffer.from([0xc3]));
    await tick();
    fs.writeSync(w, Buffer.from([0xa9, 0x0a]));
    fs.writeSync(w, 'exit 3\n');
    fs.closeSync(w);
    await ended;
    expect(text).toBe('ok\n\u00e9\nexit 3\n');
    expect(ends).toEqual([undefined]);
    expect(isOpen(r)).toBe(false);
  });

  test('close from a chunk stops reading at once, without an end, while the writer stays open', async () => {
    const [r, w] = pipeCloexec();
    const seen: string[] = [];
    let endCalls = 0;
    const reader: PipeReader = new PipeReader(r, (t) => {
      seen.push(t);
      reader.close();
    }, () => { endCalls++; });
    fs.writeSync(w, 'ok\n');
    await tick();
    expect(seen).toEqual(['ok\n']);
    expect(isOpen(r)).toBe(false);
    fs.closeSync(w);
    await tick();
    expect(endCalls).toBe(0);
  });
});
