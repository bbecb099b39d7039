/**
 * confine-driver.ts is a child process for host.test.ts: it puts itself under one of the
 * sandbox processes' seccomp allowlists exactly as that process does, reports the filter
 * state of each of its threads, then makes one host call that the allowlist refuses.
 *
 *   node confine-driver.js sentry|gofer kill|trap|log uname|socket|none
 */
import * as fs from 'node:fs';
import { installSeccomp, type SeccompMode } from '../../native/confine/seccomp';
import { libcFunc } from '../../native/libc';
import { SYSCALLS } from '../../sentry/syscalls/linux/table/syscalls';

const [who, mode, call] = process.argv.slice(2);
installSeccomp(who as 'sentry' | 'gofer', { mode: mode as SeccompMode, names: SYSCALLS.map((s) => s?.name) });
const threads = fs.readdirSync('/proc/self/task').map((t) => /^Seccomp:\s+(\d)/m.exec(fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8'))?.[1]);
fs.writeSync(1, `confined ${threads.length} threads, seccomp ${threads.join(',')}\n`);
if (call === 'uname') libcFunc('int uname(void *buf)')(Buffer.alloc(512));
if (call === 'socket') libcFunc('int socket(int domain, int type, int protocol)')(2, 1, 0);
fs.writeSync(1, 'survived\n');
