import { createHash } from 'node:crypto';
import { sha256, sha256Hex } from './sha256';

describe('sha256', () => {
  test("gives FIPS 180-4's example digests", () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  test("matches node:crypto at every length around the block and padding edges, and on UTF-8 text", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 300; n++) {
      const data = bytes.subarray(0, n);
      expect({ n, got: Buffer.from(sha256(data)).toString('hex') }).toEqual({ n, got: createHash('sha256').update(data).digest('hex') });
    }
    for (const text of ['/run/tvisor/web', '/tmp/acct-cmp-root.AbC123/a1-4242', 'conteneur-\u00e9t\u00e9-\u{1F433}']) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });
});
