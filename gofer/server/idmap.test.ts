/**
 * Unit tests of the id mappings (idmap.ts) against user_namespaces(7): mapping both ways,
 * unmapped ids (-1 going to the host, 65534 coming back), several ranges, bad ranges.
 */
import { IdMap, OVERFLOW_ID } from './idmap';

describe('IdMap', () => {
  const m = IdMap.parse(['0:100000:65536']);

  test('container ids map into the host range and back', () => {
    expect(m.toHost(0)).toBe(100000);
    expect(m.toHost(1000)).toBe(101000);
    expect(m.toHost(65535)).toBe(165535);
    expect(m.toContainer(100000)).toBe(0);
    expect(m.toContainer(101000)).toBe(1000);
  });

  test('an id outside the range is unmapped: -1 to the host, 65534 from it', () => {
    expect(m.toHost(65536)).toBe(-1);
    expect(m.toHost(-1)).toBe(-1);
    expect(m.toHost(0xffffffff)).toBe(-1);
    expect(m.toContainer(0)).toBe(OVERFLOW_ID);
    expect(m.toContainer(165536)).toBe(OVERFLOW_ID);
    expect(m.mapsHost(0)).toBe(false);
    expect(m.mapsHost(100001)).toBe(true);
  });

  test('several ranges, as runc writes them', () => {
    const two = IdMap.of([{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 200000, size: 10 }]);
    expect(two.toHost(0)).toBe(1000);
    expect(two.toHost(5)).toBe(200004);
    expect(two.toHost(11)).toBe(-1);
    expect(two.toContainer(200009)).toBe(10);
    expect(two.flags()).toEqual(['0:1000:1', '1:200000:10']);
  });

  test('no ranges is the identity', () => {
    expect(IdMap.IDENTITY.toHost(0)).toBe(0);
    expect(IdMap.IDENTITY.toContainer(12345)).toBe(12345);
    expect(IdMap.IDENTITY.mapsHost(0)).toBe(true);
  });

  test('malformed, empty and overlapping ranges are refused by name', () => {
    expect(() => IdMap.parse(['0:100000'])).toThrow('id mapping "0:100000": want CONTAINER:HOST:SIZE');
    expect(() => IdMap.parse(['0:100000:0'])).toThrow('not a valid range');
    expect(() => IdMap.parse(['0:4294967295:2'])).toThrow('not a valid range');
    expect(() => IdMap.parse(['0:100000:10', '5:200000:10'])).toThrow('overlap');
    expect(() => IdMap.parse(['0:100000:10', '20:100005:10'])).toThrow('overlap');
  });
});
