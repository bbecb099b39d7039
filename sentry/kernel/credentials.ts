/**
 * Credentials are a task's identity as the sentry sees it (never the host's): user and
 * group ids, supplementary groups, and whether it holds every capability.
 */

/** Credentials of a task; copied on fork, shared by nobody. */
export class Credentials {
  constructor(
    public uid = 0,
    public gid = 0,
    public euid = uid,
    public egid = gid,
    public suid = uid,
    public sgid = gid,
    public groups: number[] = [],
    /** privileged stands for the full capability set (root in the container). */
    public privileged = uid === 0,
  ) {}

  clone(): Credentials {
    return new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid, [...this.groups], this.privileged);
  }

  /** inGroup tells whether gid is the effective or a supplementary group. */
  inGroup(gid: number): boolean {
    return gid === this.egid || this.groups.includes(gid);
  }
}

/** MAY_READ, MAY_WRITE, MAY_EXEC are access(2) bits. */
export const MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;

/** permitted checks mode bits for the given access, as generic_permission does. */
export function permitted(c: Credentials, mode: number, uid: number, gid: number, want: number, isDir: boolean): boolean {
  if (c.privileged) {
    // root may do anything, but execute only when some x bit is set (or it is a directory).
    return !(want & MAY_EXEC) || isDir || (mode & 0o111) !== 0;
  }
  let bits: number;
  if (c.euid === uid) bits = (mode >> 6) & 7;
  else if (c.inGroup(gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) === want;
}
