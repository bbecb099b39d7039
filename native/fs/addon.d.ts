/**
 * The contract of tvisor_fs.node (native/fs/dirstat.cc), loaded by ./fs-native.ts.
 * Every call is synchronous, on the calling thread; numbers are a result >= 0 or -errno.
 */
export interface FsAddon {
  /**
   * listStat lists directory `dirfd` from its current position (getdents64), leaving out
   * `.` and `..`, skips `skip` entries and writes at most `max` of the rest into `out` as
   * Rreaddirstat carries them (name[s] and an Rgetattr body with valid = `valid`, the
   * host's owners, the qid of gofer/server/file.ts qidOf for an export on device
   * expMajor:expMinor), each statx'ed beneath dirfd without following a symlink; an entry
   * whose statx fails is left out but counted. Returns the bytes written or -errno;
   * state[0] is the entries written, state[1] the index of the first one that was not
   * (room or `max`), 0 when the listing is complete.
   */
  listStat(dirfd: number, skip: number, max: number, out: Buffer, valid: number, expMajor: number, expMinor: number, state: Uint32Array): number;
  /** attrSize is the size of an Rgetattr body the addon writes (the codec's ATTR_SIZE). */
  readonly attrSize: number;
}
