/**
 * Credentials are a task's identity as the sentry sees it (never the host's): user and
 * group ids, supplementary groups, capability sets (capabilities.ts) and no_new_privs.
 * Privileged operations ask `capable(CAP_...)`, which reads the effective set, as Linux's
 * capable() does; file access goes through vfs/permission.ts's permitted()
 * (generic_permission), where a capability applies to a file only when its owner and
 * group are mapped (capableWrt).
 */
import type { Process } from '../../oci/config';
import { SECBIT_NO_SETUID_FIXUP, capBit, capMask, fullCaps, noCaps, type CapSets } from './capabilities';
import { capableIn, toKernelId, type UserNamespace } from './user-namespace';

/** Credentials of a task; copied on fork, shared by nobody. */
export class Credentials {
  /** noNewPrivs is prctl's no_new_privs bit: execve grants no privilege. Never cleared. */
  noNewPrivs = false;
  /** userns is the user namespace the task is in (user-namespace.ts); null: the sandbox's own. */
  userns: UserNamespace | null = null;

  constructor(
    public uid = 0,
    public gid = 0,
    public euid = uid,
    public egid = gid,
    public suid = uid,
    public sgid = gid,
    public groups: number[] = [],
    /** caps default to the full set for uid 0 and none for others (bounding full). */
    public caps: CapSets = uid === 0 ? fullCaps() : noCaps(),
  ) {}

  clone(): Credentials {
    const c = new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid, [...this.groups], { ...this.caps });
    c.noNewPrivs = this.noNewPrivs;
    c.userns = this.userns;
    return c;
  }

  /** capable tells whether the task holds cap over the sandbox, its root user namespace
   * (Linux's capable()): the effective set, for a task not in a user namespace of its own. */
  capable(cap: number): boolean {
    return this.userns === null && (this.caps.effective & capBit(cap)) !== 0n;
  }

  /** capableIn tells whether the task holds cap in user namespace ns (Linux's ns_capable;
   * undefined: its own namespace). */
  capableIn(cap: number, ns: UserNamespace | null = this.userns): boolean {
    return capableIn(this, ns, capBit(cap));
  }

  /** rootUid is the kernel id of uid 0 in the task's user namespace (-1 when unmapped). */
  rootUid(): number {
    return toKernelId(this.userns, 'uid', 0);
  }

  /** inGroup tells whether gid is the effective or a supplementary group. */
  inGroup(gid: number): boolean {
    return gid === this.egid || this.groups.includes(gid);
  }

  /** forAccess returns the credentials access(2) checks with (faccessat's override): the
   * real ids as effective ones, and the effective set cleared for a nonzero real uid or
   * made the permitted set for uid 0 (unless SECBIT_NO_SETUID_FIXUP). */
  forAccess(): Credentials {
    const c = this.clone();
    c.euid = this.uid;
    c.egid = this.gid;
    if (!(c.caps.securebits & SECBIT_NO_SETUID_FIXUP)) c.caps.effective = this.uid === this.rootUid() ? c.caps.permitted : 0n;
    return c;
  }
}

/** credentialsFromProcess builds the credentials of a process started from an OCI Process
 * (the container's init or an exec): its user and groups, the capability sets of
 * process.capabilities as runc applies them, and process.noNewPrivileges. The result is
 * the state just before runc's final execve, so the execve that loads the program then
 * transforms the sets as Linux does (root regains bounding ∪ inheritable; others keep the
 * ambient set). Ambient capabilities outside permitted ∩ inheritable are dropped, as runc
 * drops (with a warning) those PR_CAP_AMBIENT_RAISE refuses. Without process.capabilities
 * every set is empty, the bounding set included, for root as for others: runc applies an
 * empty capability list then (measured with Debian's runc: CapBnd 0 for uid 0). */
export function credentialsFromProcess(p: Pick<Process, 'user' | 'capabilities' | 'noNewPrivileges'>): Credentials {
  const u = p.user;
  const oc = p.capabilities ?? {};
  const permitted = capMask(oc.permitted), inheritable = capMask(oc.inheritable);
  const caps: CapSets = {
    bounding: capMask(oc.bounding),
    permitted,
    effective: capMask(oc.effective) & permitted,
    inheritable,
    ambient: capMask(oc.ambient) & permitted & inheritable,
    securebits: 0,
  };
  // The kernel keeps supplementary groups sorted (setgroups' groups_sort): getgroups and id -G show them so.
  const c = new Credentials(u.uid, u.gid, u.uid, u.gid, u.uid, u.gid, [...(u.additionalGids ?? [])].sort((a, b) => a - b), caps);
  c.noNewPrivs = p.noNewPrivileges === true;
  return c;
}

/** MAY_READ, MAY_WRITE, MAY_EXEC are access(2) bits. */
export const MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;
