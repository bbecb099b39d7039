/**
 * decoders turns flag words and small enumerations into the symbolic text strace prints
 * (`O_RDONLY|O_CLOEXEC`, `PROT_READ|PROT_WRITE`, `SIGCHLD`). Values are the x86-64 ones
 * from the kernel's uapi headers. Bits no name covers are printed as a trailing hex term,
 * so nothing an application passes is hidden.
 */

type FlagTable = ReadonlyArray<readonly [bits: number, name: string]>;

/** flagsText prints `value` as NAME|NAME|0x..; names are tried in order and may span several bits. */
export function flagsText(value: number, table: FlagTable, zero = '0'): string {
  const parts: string[] = [];
  let rest = value >>> 0;
  for (const [bits, name] of table) {
    if (bits !== 0 && (rest & bits) >>> 0 === bits) {
      parts.push(name);
      rest = (rest & ~bits) >>> 0;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join('|') : zero;
}

/** enumText prints `value` by name from `names`, or as a decimal number. */
function enumText(value: number, names: Readonly<Record<number, string>>): string {
  return names[value] ?? String(value);
}

// O_* (octal in fcntl.h). Combined names first so O_SYNC wins over O_DSYNC.
const O_CREAT = 0o100, O_TMPFILE = 0o20200000;
const OPEN_FLAGS: FlagTable = [
  [0o4010000, 'O_SYNC'], [0o20200000, 'O_TMPFILE'],
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
];
const ACCMODE = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

/** openFlagsText prints open(2) flags: the access mode, then the other O_* bits. */
export function openFlagsText(flags: number): string {
  const rest = flagsText(flags & ~3, OPEN_FLAGS, '');
  return rest ? `${ACCMODE[flags & 3]}|${rest}` : ACCMODE[flags & 3];
}

/** fdFlagsText prints O_CLOEXEC/O_NONBLOCK-style flags without an access mode (pipe2, dup3). */
export function fdFlagsText(flags: number): string {
  return flagsText(flags, OPEN_FLAGS);
}

/** openTakesMode says whether open flags make the kernel read the mode argument. */
export function openTakesMode(flags: number): boolean {
  return (flags & O_CREAT) !== 0 || (flags & O_TMPFILE) === O_TMPFILE;
}

const PROT: FlagTable = [
  [1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'], [8, 'PROT_SEM'],
  [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP'],
];

/** protText prints PROT_* bits (PROT_NONE for 0). */
export function protText(prot: number): string {
  return flagsText(prot, PROT, 'PROT_NONE');
}

const MAP_TYPES = ['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'];
const MAP_FLAGS: FlagTable = [
  [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'], [0x100, 'MAP_GROWSDOWN'],
  [0x800, 'MAP_DENYWRITE'], [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'], [0x4000, 'MAP_NORESERVE'],
  [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'], [0x40000, 'MAP_HUGETLB'],
  [0x80000, 'MAP_SYNC'], [0x100000, 'MAP_FIXED_NOREPLACE'],
];

/** mmapFlagsText prints mmap(2) flags: the mapping type, then the MAP_* bits. */
export function mmapFlagsText(flags: number): string {
  const type = MAP_TYPES[flags & 0xf] ?? `0x${(flags & 0xf).toString(16)}`;
  const rest = flagsText(flags & ~0xf, MAP_FLAGS, '');
  return rest ? `${type}|${rest}` : type;
}

const CLONE_FLAGS: FlagTable = [
  [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'],
  [0x1000, 'CLONE_PIDFD'], [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'],
  [0x10000, 'CLONE_THREAD'], [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'],
  [0x100000, 'CLONE_PARENT_SETTID'], [0x200000, 'CLONE_CHILD_CLEARTID'], [0x400000, 'CLONE_DETACHED'],
  [0x800000, 'CLONE_UNTRACED'], [0x1000000, 'CLONE_CHILD_SETTID'], [0x2000000, 'CLONE_NEWCGROUP'],
  [0x4000000, 'CLONE_NEWUTS'], [0x8000000, 'CLONE_NEWIPC'], [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'], [0x80000000, 'CLONE_IO'],
];

/** cloneFlagsText prints clone(2) flags; the low byte is the exit signal (`...|SIGCHLD`). */
export function cloneFlagsText(flags: bigint): string {
  const low = Number(flags & 0xffn);
  const hi = Number(BigInt.asUintN(32, flags) & ~0xffn);
  const parts = [flagsText(hi, CLONE_FLAGS, '')].filter((p) => p !== '');
  if (flags >> 32n !== 0n) parts.push(`0x${(flags >> 32n << 32n).toString(16)}`);
  if (low !== 0) parts.push(signalName(low));
  return parts.length ? parts.join('|') : '0';
}

/** nsFlagsText prints unshare(2)/setns(2) flags (CLONE_NEWTIME is 0x80 there). */
export function nsFlagsText(flags: number): string {
  return flagsText(flags, [...CLONE_FLAGS, [0x80, 'CLONE_NEWTIME']]);
}

const SIGNALS = [
  '0', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT',
  'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF',
  'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** signalName names signal `sig` (SIGTERM, SIGRTMIN, SIGRT_3); other values print as numbers. */
export function signalName(sig: number): string {
  if (sig > 0 && sig < 32) return SIGNALS[sig];
  if (sig === 32) return 'SIGRTMIN';
  if (sig > 32 && sig <= 64) return `SIGRT_${sig - 32}`;
  return String(sig);
}

/** sigsetText prints a 64-bit signal set as strace does: `[INT TERM]`, or `~[...]` when mostly full. */
export function sigsetText(set: bigint): string {
  const members: number[] = [];
  for (let s = 1; s <= 64; s++) if ((set >> BigInt(s - 1)) & 1n) members.push(s);
  const invert = members.length > 32;
  const shown = invert ? Array.from({ length: 64 }, (_, i) => i + 1).filter((s) => !members.includes(s)) : members;
  const body = shown.map((s) => signalName(s).replace(/^SIG/, '')).join(' ');
  return `${invert ? '~' : ''}[${body}]`;
}

const AT_FLAGS: FlagTable = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'],
  [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'], [0x2000, 'AT_STATX_FORCE_SYNC'],
  [0x4000, 'AT_STATX_DONT_SYNC'], [0x8000, 'AT_RECURSIVE'],
];

/** atFlagsText prints AT_* flags (0 when none). */
export function atFlagsText(flags: number): string {
  return flagsText(flags, AT_FLAGS);
}

/** accessModeText prints access(2) modes: F_OK or R_OK|W_OK|X_OK. */
export function accessModeText(mode: number): string {
  return flagsText(mode, [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']], 'F_OK');
}

/** sigHowText names rt_sigprocmask's `how`. */
export function sigHowText(how: number): string {
  return enumText(how, { 0: 'SIG_BLOCK', 1: 'SIG_UNBLOCK', 2: 'SIG_SETMASK' });
}

/** clockText names a clock id. */
export function clockText(id: number): string {
  return enumText(id, {
    0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 2: 'CLOCK_PROCESS_CPUTIME_ID', 3: 'CLOCK_THREAD_CPUTIME_ID',
    4: 'CLOCK_MONOTONIC_RAW', 5: 'CLOCK_REALTIME_COARSE', 6: 'CLOCK_MONOTONIC_COARSE', 7: 'CLOCK_BOOTTIME',
    8: 'CLOCK_REALTIME_ALARM', 9: 'CLOCK_BOOTTIME_ALARM', 11: 'CLOCK_TAI',
  });
}

/** whenceText names lseek's `whence`. */
export function whenceText(w: number): string {
  return enumText(w, { 0: 'SEEK_SET', 1: 'SEEK_CUR', 2: 'SEEK_END', 3: 'SEEK_DATA', 4: 'SEEK_HOLE' });
}

/** fcntlCmdText names a fcntl(2) command. */
export function fcntlCmdText(cmd: number): string {
  return enumText(cmd, {
    0: 'F_DUPFD', 1: 'F_GETFD', 2: 'F_SETFD', 3: 'F_GETFL', 4: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK',
    7: 'F_SETLKW', 8: 'F_SETOWN', 9: 'F_GETOWN', 10: 'F_SETSIG', 11: 'F_GETSIG', 15: 'F_SETOWN_EX',
    16: 'F_GETOWN_EX', 36: 'F_OFD_GETLK', 37: 'F_OFD_SETLK', 38: 'F_OFD_SETLKW', 1024: 'F_SETLEASE',
    1025: 'F_GETLEASE', 1026: 'F_NOTIFY', 1030: 'F_DUPFD_CLOEXEC', 1031: 'F_SETPIPE_SZ',
    1032: 'F_GETPIPE_SZ', 1033: 'F_ADD_SEALS', 1034: 'F_GET_SEALS',
  });
}

const FUTEX_CMDS = [
  'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP',
  'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET',
  'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2',
];

/** futexOpText prints a futex(2) op: FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME... */
export function futexOpText(op: number): string {
  const cmd = op & 0x7f;
  let s = FUTEX_CMDS[cmd] ?? String(cmd);
  if (op & 128) s += '_PRIVATE';
  if (op & 256) s += '|FUTEX_CLOCK_REALTIME';
  const rest = op & ~0x1ff;
  return rest ? `${s}|0x${(rest >>> 0).toString(16)}` : s;
}

/** modeText prints a file mode as C's "%#03o", as strace does (0644, 022, 000). */
export function modeText(mode: number): string {
  return (mode === 0 ? '0' : `0${mode.toString(8)}`).padStart(3, '0');
}
