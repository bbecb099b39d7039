/**
 * Unit tests of toHostCreds (caller.ts), the gofer's decoding of a Tsetcreds: ids go
 * through the mappings, anything unmapped or beyond the filesystem capabilities is EINVAL.
 */
import { FS_CAPS } from '../hostfs/creds';
import { toHostCreds } from './caller';
import { IDENTITY_MAPS, IdMap } from './idmap';

const EINVAL = -22;
const mapped = { uid: IdMap.parse(['0:100000:65536']), gid: IdMap.parse(['0:200000:65536']) };

describe('toHostCreds', () => {
  test('container ids become host ids', () => {
    expect(toHostCreds(mapped, 1000, 5, [5, 6], FS_CAPS)).toEqual({ uid: 101000, gid: 200005, groups: [200005, 200006], caps: FS_CAPS });
    expect(toHostCreds(IDENTITY_MAPS, 1000, 1000, [], 0)).toEqual({ uid: 1000, gid: 1000, groups: [], caps: 0 });
  });
  test('an unmapped uid, gid or group is EINVAL', () => {
    expect(toHostCreds(mapped, 65536, 0, [], 0)).toBe(EINVAL);
    expect(toHostCreds(mapped, 0, 65536, [], 0)).toBe(EINVAL);
    expect(toHostCreds(mapped, 0, 0, [1, 65536], 0)).toBe(EINVAL);
  });
  test('a capability other than the five filesystem ones is EINVAL', () => {
    expect(toHostCreds(mapped, 0, 0, [], 1 << 5)).toBe(EINVAL);
    expect(toHostCreds(mapped, 0, 0, [], 2 ** 40)).toBe(EINVAL);
    expect(toHostCreds(mapped, 0, 0, [], -1)).toBe(EINVAL);
  });
  test('more groups than NGROUPS_MAX is EINVAL', () => {
    expect(toHostCreds(IDENTITY_MAPS, 0, 0, new Array(65537).fill(1), 0)).toBe(EINVAL);
  });
});
