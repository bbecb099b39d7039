/**
 * device-cgroup.ts: the container's device access rules (config.json's
 * linux.resources.devices, then the devices runc always allows), checked when a device
 * node is opened, as the devices cgroup is under runc: a denied device answers EPERM
 * before the sandbox looks at whether it can emulate it. Rules apply in order, the last
 * one that matches deciding; a rule for every device (no type or "a", no numbers) resets
 * the default and forgets earlier rules, as the cgroup's "a" entry does. Without any rule
 * every device is allowed (the node's own behaviour decides). Only "r" and "w" are
 * checked; "m" (mknod) is runc's default for every device.
 */
import type { LinuxDeviceCgroup } from '../../../oci/config';

/** Rule is one parsed rule: type 'c', 'b' or 'a', numbers (-1: any), access letters. */
interface Rule {
  allow: boolean;
  type: string;
  major: number;
  minor: number;
  access: string;
}

/** RUNC_ALLOWED are the devices runc appends to every container's rules (specconv's AllowedDevices). */
const RUNC_ALLOWED: [number, number][] = [[1, 3], [1, 8], [1, 7], [5, 0], [1, 5], [1, 9], [136, -1], [5, 2], [10, 200]];

let defaultAllow = true;
let rules: Rule[] = [];

/** setDeviceRules installs the container's rules (empty: every device allowed). */
export function setDeviceRules(spec: LinuxDeviceCgroup[]): void {
  defaultAllow = true;
  rules = [];
  if (spec.length === 0) return;
  const all: Rule[] = spec.map((r) => ({ allow: r.allow, type: r.type ?? 'a', major: r.major ?? -1, minor: r.minor ?? -1, access: r.access ?? 'rwm' }));
  for (const [major, minor] of RUNC_ALLOWED) all.push({ allow: true, type: 'c', major, minor, access: 'rwm' });
  for (const r of all) {
    if (r.type === 'a' && r.major === -1 && r.minor === -1) {
      defaultAllow = r.allow;
      rules = [];
    } else {
      rules.push(r);
    }
  }
}

/** deviceAllowed tells whether the rules let a device be opened with `access` ("r", "w" or "rw"). */
export function deviceAllowed(block: boolean, major: number, minor: number, access: string): boolean {
  const type = block ? 'b' : 'c';
  return [...access].every((a) => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const r = rules[i];
      if ((r.type === 'a' || r.type === type) && (r.major === -1 || r.major === major) && (r.minor === -1 || r.minor === minor) && r.access.includes(a)) return r.allow;
    }
    return defaultAllow;
  });
}
