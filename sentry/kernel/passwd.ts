/**
 * passwd.ts reads the container's /etc/passwd for what runc derives from it: HOME, when
 * the process's environment lacks it, is the home directory of the process's uid ("/"
 * without an entry or without a readable /etc/passwd), for init and for every exec.
 */
import { O_RDONLY } from '../vfs/file';
import { resolve } from '../vfs/path';
import { Credentials } from './credentials';
import type { Kernel } from './kernel';
import type { Task } from './task';

/** PASSWD_MAX bounds how much of /etc/passwd is read (runc's user lookup has no bound; a
 * hostile image must not make the sentry read gigabytes). */
const PASSWD_MAX = 1 << 20;

/** readPasswd returns the container's /etc/passwd, read as root (as runc's init reads it
 * before it changes user), or null when it cannot be read. */
function readPasswd(k: Kernel, t: Task): string | null {
  try {
    const root = k.mounts.root;
    const creds = new Credentials(0, 0);
    const loc = resolve({ root, cwd: root, creds }, root, '/etc/passwd', { follow: true });
    if (!loc.dentry.inode.isRegular) return null;
    const f = loc.dentry.inode.open(loc, O_RDONLY, creds);
    try {
      const buf = Buffer.alloc(Math.min(PASSWD_MAX, Math.max(0, f.stat().size)));
      let done = 0;
      while (done < buf.length) {
        const n = f.read(t, buf.subarray(done), done);
        if (typeof n !== 'number' || n <= 0) break;
        done += n;
      }
      return buf.subarray(0, done).toString('utf8');
    } finally {
      f.unref();
    }
  } catch {
    return null;
  }
}

/** homeOf returns the home directory of uid in passwd text (name:pw:uid:gid:gecos:home:shell), "/" if none. */
export function homeOf(passwd: string | null, uid: number): string {
  for (const line of (passwd ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && f[2] === String(uid) && f[5] !== '') return f[5];
  }
  return '/';
}

/** withHome returns env with HOME set from t's uid's passwd entry when env has no HOME, as runc does. */
export function withHome(k: Kernel, t: Task, env: string[]): string[] {
  if (env.some((e) => e.startsWith('HOME='))) return env;
  return [...env, `HOME=${homeOf(readPasswd(k, t), t.creds.uid)}`];
}
