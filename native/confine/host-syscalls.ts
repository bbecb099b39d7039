/**
 * host-syscalls is the one table of the host syscalls that tvisor's own sandbox
 * processes may make once they are confined: the sentry, the gofer, the ptrace stubs and
 * the systrap stubs (the `systrap-stub` rows: filter A of native/systrap/stub.S, checked
 * against the binary by host-syscalls.test.ts).
 * Each process's seccomp allowlist (filters.ts), `tvisor host-syscalls` and the README's
 * counts all come from it.
 *
 * A row: the syscall (x86-64 number and name), the processes that may call it, why, and
 * argument constraints where they are cheap to state (alternatives of `(arg & mask) ==
 * value` tests). A row's `action` is `allow` unless it says `enosys`: clone3 answers ENOSYS
 * so that glibc falls back to clone, whose flags a filter can read (clone3 keeps them in
 * memory), and io_uring_setup answers ENOSYS so that libuv keeps to its thread pool.
 *
 * How the list was found: the test suites (spec-tests/oci, spec-tests/behaviour with
 * `tvisor do` of Python and Go, exec with and without a terminal, runtime/) ran under
 * `perf trace -a`, and each process's calls after its filter went on were kept, plus the
 * calls of code paths the suites do not reach (the gofer's 9P operations, the per-request
 * credentials) and those of a stub's birth (below). `--host-seccomp log` spots a missing
 * row quickly (the kernel's audit log in dmesg names it) but drops reports under load.
 *
 * Stubs: a stub is born from the sentry (clone + execve in native/ptrace/addon.cc) and
 * keeps the sentry's filter under its own, so the sentry's list also holds what a stub
 * does between its clone and its own filter (rows marked "stub start-up"). Application
 * syscalls never reach either filter: PTRACE_SYSEMU stops them at syscall entry, before
 * seccomp, and the sentry skips them. The stub's own filter (native/stub/stub.S) allows
 * the calls the sentry injects at its gadgets: the `stub` rows, checked against the
 * binary by host-syscalls.test.ts.
 */
import type { ArgTest } from './bpf';
import { HOST_IOCTLS, HOST_OPTIONS } from '../net/host-options';

/** HostProcess names one of tvisor's confined host processes (`systrap-stub`: the systrap platform's stub). */
export type HostProcess = 'sentry' | 'gofer' | 'stub' | 'systrap-stub';

/** HOST_PROCESSES lists the confined processes in the order `tvisor host-syscalls` prints them. */
export const HOST_PROCESSES: readonly HostProcess[] = ['sentry', 'gofer', 'stub', 'systrap-stub'];

/** StubSite names a syscall instruction of a stub (native/stub/layout.h, native/systrap/layout.h). */
export type StubSite = 'inject' | 'park' | 'restorer' | 'wake' | 'wait' | 'exit' | 'yield' | 'arch';

/** RuntimeValue names an argument value known only when the filter is installed. */
export type RuntimeValue = 'stubFd';

/** RuntimeValues are those values: `stubFd`, the sentry's descriptor of the stub binary. */
export type RuntimeValues = Readonly<Record<RuntimeValue, number>>;

/** HostArgTest is an ArgTest whose value may be a RuntimeValue. */
export type HostArgTest = Omit<ArgTest, 'value'> & { readonly value: bigint | RuntimeValue };

/** HostSyscall is one row of the table. */
export interface HostSyscall {
  readonly nr: number;
  readonly name: string;
  readonly who: readonly HostProcess[];
  readonly why: string;
  /** args: the call is allowed when any alternative holds (each a conjunction); absent: always. */
  readonly args?: readonly (readonly HostArgTest[])[];
  /** argsText says the constraint for a person (printed by `tvisor host-syscalls`). */
  readonly argsText?: string;
  /** action: `enosys` answers ENOSYS instead of allowing the call. */
  readonly action?: 'allow' | 'enosys';
  /** gadget, for stub rows: the stub address(es) the call must come from. */
  readonly gadget?: StubSite | readonly StubSite[];
}

const eq = (arg: number, value: number | bigint): ArgTest => ({ arg, value: BigInt(value) });
/** LOW32 tests the low 32 bits of an `int` argument (the high half of its register is not the caller's). */
const LOW32 = (arg: number, value: number | RuntimeValue): HostArgTest => ({ arg, mask: 0xffffffffn, value: typeof value === 'number' ? BigInt(value >>> 0) : value });
/** oneOf allows `arg` to be any of `values` (one alternative each). */
const oneOf = (arg: number, values: readonly number[]): ArgTest[][] => values.map((v) => [eq(arg, v)]);

// arch_prctl(2) codes (asm/prctl.h).
const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002;
// clone(2) flags (linux/sched.h).
const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_VFORK = 0x4000,
  CLONE_THREAD = 0x10000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000,
  CLONE_CHILD_CLEARTID = 0x200000, SIGCHLD = 17;
/** PTHREAD_CLONE_FLAGS are glibc's pthread_create flags (Node's V8 and libuv threads). */
export const PTHREAD_CLONE_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
  CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
/** VFORK_CLONE_FLAGS start a child that borrows the parent's memory until execve (stub spawn, posix_spawn). */
export const VFORK_CLONE_FLAGS = CLONE_VM | CLONE_VFORK | SIGCHLD;
/**
 * STUB_START_CLONE_FLAGS start a stub's child that borrows the parent's memory until its
 * execve without suspending the parent (a spare stub started ahead of need: addon.cc's
 * StartStub; its child makes raw syscalls only).
 */
export const STUB_START_CLONE_FLAGS = CLONE_VM | SIGCHLD;
/** STUB_THREAD_CLONE_FLAGS are the flags of the clone the sentry injects into a stub (addon.cc kThreadCloneFlags). */
export const STUB_THREAD_CLONE_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;

// ptrace(2) requests the sentry makes (native/ptrace/addon.cc).
const PTRACE = {
  TRACEME: 0, CONT: 7, GETREGS: 12, SETREGS: 13, DETACH: 17, SYSEMU: 31,
  SETOPTIONS: 0x4200, GETEVENTMSG: 0x4201, GETSIGINFO: 0x4202, GETREGSET: 0x4204, SETREGSET: 0x4205,
  SEIZE: 0x4206, INTERRUPT: 0x4207,
};

// ioctl(2) requests.
const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a,
  TCFLSH = 0x540b, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414,
  FIONREAD = 0x541b, FIONBIO = 0x5421, FIOCLEX = 0x5451, TIOCSPTLCK = 0x40045431,
  TIOCGPTPEER = 0x5441, TIOCGPTN = 0x80045430;
/** SENTRY_IOCTLS: the terminal requests the sentry forwards to its host ptys or makes opening one, and Node's own. */
const SENTRY_IOCTLS = [TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCSCTTY, TIOCGPGRP, TIOCOUTQ,
  TIOCGWINSZ, TIOCSWINSZ, FIONREAD, FIONBIO, FIOCLEX, TIOCSPTLCK, TIOCGPTPEER,
  // libuv asks it of a terminal on its stdio (uv__tty_is_slave) when Node first uses
  // process.stdout/stderr there: docker run -it, where the sentry's stdio is the pty.
  TIOCGPTN,
  // The host-network provider's read-only socket requests (native/net/host-options.ts).
  ...HOST_IOCTLS.map((i) => i.req).filter((r) => r !== FIONREAD && r !== TIOCOUTQ)];

// The KVM platform's requests on its VM and vCPU descriptors once confined (native/kvm/vm.c:
// run, registers, FP state, CPUID, the flush memslot, a new vCPU); the device itself is
// opened, and the VM created, before confinement.
const KVM_IOCTLS = [0xae80, 0x8138ae83, 0x4138ae84, 0x4008ae89, 0x4008ae90, 0x4188aea7, 0x9000aea4, 0x5000aea5, 0x4020ae46, 0xae41];

// The host-network provider's sockets (sentry/net/host/): socket(2)'s (domain, type with
// SOCK_NONBLOCK | SOCK_CLOEXEC, protocol), and the options of its allowlist.
const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_FLAGS = 0o4000 | 0o2000000;
const HOST_SOCKETS: ArgTest[][] = [
  [AF_INET, SOCK_STREAM, 6], [AF_INET, SOCK_DGRAM, 17], [AF_INET, SOCK_DGRAM, 1],
  [AF_INET6, SOCK_STREAM, 6], [AF_INET6, SOCK_DGRAM, 17], [AF_INET6, SOCK_DGRAM, 58],
].map(([d, t, p]) => [LOW32(0, d), LOW32(1, t | SOCK_FLAGS), LOW32(2, p)] as ArgTest[]);
const optionArgs = (set: boolean): ArgTest[][] => HOST_OPTIONS.filter((o) => !set || o.access === 'both')
  .map((o) => [LOW32(1, o.level), LOW32(2, o.name)] as ArgTest[]);

// futex(2) operations, seccomp(2) operations, and the systrap stub's filter B (native/systrap/layout.h).
const FUTEX_WAIT = 0, FUTEX_WAKE = 1, SECCOMP_SET_MODE_FILTER = 1;
const SYSTRAP_FPROG_B = 0x7fffff000000 + 0x700 - 16;

// prctl(2) options; personality(2) flags.
const PR_SET_PDEATHSIG = 1, PR_SET_NAME = 15, PR_SET_NO_NEW_PRIVS = 38, PR_SET_MM = 35, PR_SET_MM_MAP = 14;
// The stubs' title page (native/stub/layout.h, platform/ptrace/title.ts).
const STUB_TITLE = 0x7fffff000000 + 0x80000, STUB_TITLE_SIZE = 0x1000, STUB_TITLE_COMM = STUB_TITLE + 0x70, STUB_MEMFD = 3;
const AT_EMPTY_PATH = 0x1000;
const AT_FDCWD = -100;
const ADDR_NO_RANDOMIZE = 0x0040000;

/** The clocks whose vDSO reads fall back to clock_gettime(2) on a clocksource user mode cannot read. */
const WALL_CLOCKS = [0, 1, 4, 5, 6, 7];
const S: readonly HostProcess[] = ['sentry'];
const G: readonly HostProcess[] = ['gofer'];
const SG: readonly HostProcess[] = ['sentry', 'gofer'];

/** HOST_SYSCALLS is the table, ordered by number. */
export const HOST_SYSCALLS: readonly HostSyscall[] = [
  { nr: 0, name: 'read', who: SG, why: 'Node reads its descriptors: sockets, pipes, stdio' },
  { nr: 1, name: 'write', who: SG, why: 'Node writes its descriptors: sockets, pipes, stdio, logs' },
  { nr: 3, name: 'close', who: SG, why: 'closing descriptors' },
  { nr: 5, name: 'fstat', who: SG, why: 'Node and libuv stat open descriptors' },
  { nr: 7, name: 'poll', who: SG, why: 'waiting on one descriptor (sockets, terminals)' },
  { nr: 8, name: 'lseek', who: SG, why: 'host files of the container (stdio); Tread/Twrite offsets' },
  { nr: 9, name: 'mmap', who: SG, why: 'V8 heap, thread stacks, the memory file' },
  { nr: 9, name: 'mmap', who: ['stub'], gadget: 'inject', why: 'mapping the memory file into an address space' },
  { nr: 9, name: 'mmap', who: ['systrap-stub'], gadget: 'inject', why: 'the control thread maps the memory file into an address space (never an application thread: its filter B kills any call from the inject gadget)' },
  { nr: 10, name: 'mprotect', who: SG, why: 'V8 code pages, guard pages' },
  { nr: 10, name: 'mprotect', who: ['stub'], gadget: 'inject', why: 'changing an address space\'s protections' },
  { nr: 10, name: 'mprotect', who: ['systrap-stub'], gadget: 'inject', why: 'the control thread changes an address space\'s protections' },
  { nr: 11, name: 'munmap', who: SG, why: 'freeing memory; a new stub unmaps its stack' },
  { nr: 11, name: 'munmap', who: ['stub'], gadget: 'inject', why: 'unmapping from an address space' },
  { nr: 11, name: 'munmap', who: ['systrap-stub'], gadget: 'inject', why: 'the control thread unmaps from an address space' },
  { nr: 12, name: 'brk', who: SG, why: 'malloc' },
  { nr: 13, name: 'rt_sigaction', who: SG, why: 'Node\'s signal handlers; stub spawn resets every handler' },
  { nr: 14, name: 'rt_sigprocmask', who: SG, why: 'threads block signals; stub spawn unblocks all' },
  { nr: 15, name: 'rt_sigreturn', who: SG, why: 'return from a signal handler (glibc\'s setxid broadcast of the credential drop ends in it, the sentry\'s SIGCHLD)' },
  { nr: 15, name: 'rt_sigreturn', who: ['systrap-stub'], gadget: 'restorer', why: 'the signal handler returns into the answered frame (any register state is the application\'s own to set)' },
  { nr: 16, name: 'ioctl', who: S, why: 'terminal requests forwarded to host ptys; the KVM platform\'s VM and vCPUs', args: oneOf(1, [...SENTRY_IOCTLS, ...KVM_IOCTLS]), argsText: 'request: termios, winsize, pty, FIONBIO, FIOCLEX; FIONREAD, SIOCOUTQ, SIOCATMARK, SIOCGIF* (read-only); KVM_RUN, KVM_GET/SET_SREGS, SET_MSRS, SET_CPUID2, SET_XCRS, GET/SET_XSAVE, SET_USER_MEMORY_REGION, CREATE_VCPU' },
  { nr: 17, name: 'pread64', who: SG, why: 'the memory file; Tread; the sandbox\'s /proc/net/snmp, netstat and /proc/sys/net, re-read from the namespace\'s files opened before confinement; the host\'s /proc/loadavg (systrap\'s placement, opened before confinement)' },
  { nr: 17, name: 'pread64', who: ['stub'], gadget: 'inject', args: [[LOW32(0, STUB_MEMFD), eq(1, STUB_TITLE), eq(2, STUB_TITLE_SIZE)]], argsText: 'the memory file into the title page, one page', why: 'the process title: a copy of the application\'s arguments into the anonymous title page, the only memory the host\'s /proc/<pid>/cmdline reads' },
  { nr: 17, name: 'pread64', who: ['systrap-stub'], gadget: 'inject', args: [[LOW32(0, STUB_MEMFD), eq(1, STUB_TITLE)]], argsText: 'the memory file into the title page', why: 'the process title, as the ptrace stub\'s (the count is not pinned: filter A has no room; the page after the title page is never mapped)' },
  { nr: 18, name: 'pwrite64', who: SG, why: 'the memory file; Twrite' },
  { nr: 21, name: 'access', who: S, why: 'Node\'s fs.existsSync' },
  { nr: 24, name: 'sched_yield', who: SG, why: 'V8 spin locks; the sentry\'s bounded spin for a systrap stub\'s event' },
  { nr: 24, name: 'sched_yield', who: ['systrap-stub'], gadget: 'yield', why: 'the handler\'s bounded spin for the sentry\'s answer gives the CPU to whatever else may run (it only gives up its own time)' },
  { nr: 25, name: 'mremap', who: SG, why: 'realloc of large blocks' },
  { nr: 28, name: 'madvise', who: SG, why: 'V8 and glibc give memory back' },
  { nr: 33, name: 'dup2', who: S, why: 'stub spawn moves the memory file to its fixed number' },
  { nr: 34, name: 'pause', who: S, why: 'a parked stub thread (stubs keep the sentry\'s filter under their own)' },
  { nr: 34, name: 'pause', who: ['stub'], gadget: 'park', why: 'a parked stub thread waits to be seized' },
  { nr: 38, name: 'setitimer', who: S, why: 'stub start-up arms its 10 ms time slice' },
  { nr: 39, name: 'getpid', who: SG, why: 'Node asks its pid' },
  {
    nr: 41, name: 'socket', who: S, why: 'the application\'s TCP, UDP and ICMP ping sockets (host sockets of the sandbox\'s network namespace)',
    args: HOST_SOCKETS, argsText: 'AF_INET/AF_INET6 stream TCP or datagram UDP/ICMP ping, non-blocking and close-on-exec (no AF_UNIX, raw, packet or netlink socket)',
  },
  { nr: 42, name: 'connect', who: S, why: 'the application\'s connect on its host sockets (inet only: the sentry makes no other socket once confined)' },
  { nr: 44, name: 'sendto', who: SG, why: 'socket writes (9P, control and exec sockets; the application\'s host sockets); read-only rtnetlink requests on the sentry\'s NETLINK_ROUTE socket (made before confinement)' },
  { nr: 45, name: 'recvfrom', who: S, why: 'the application\'s receives on its host sockets' },
  { nr: 46, name: 'sendmsg', who: SG, why: 'SCM_RIGHTS: opened files to the sentry; pty masters; the application\'s datagrams with vetted ancillary data (sentry/net/host/cmsg.ts)' },
  { nr: 47, name: 'recvmsg', who: SG, why: 'SCM_RIGHTS: files from the gofer, stdio of exec requests; rtnetlink answers on the sentry\'s NETLINK_ROUTE socket; the application\'s datagrams with ancillary data' },
  { nr: 48, name: 'shutdown', who: S, why: 'closing a control connection; the application\'s shutdown of a host socket' },
  { nr: 49, name: 'bind', who: S, why: 'the application\'s bind of a host socket' },
  { nr: 50, name: 'listen', who: S, why: 'the application\'s listen on a host socket' },
  { nr: 51, name: 'getsockname', who: S, why: 'the application\'s getsockname of a host socket' },
  { nr: 52, name: 'getpeername', who: S, why: 'the application\'s getpeername of a host socket' },
  { nr: 54, name: 'setsockopt', who: S, why: 'the application\'s socket options', args: optionArgs(true), argsText: 'level and option: the settable rows of the allowlist (native/net/host-options.ts)' },
  { nr: 55, name: 'getsockopt', who: S, why: 'the application\'s socket options; SO_ERROR of a connect', args: optionArgs(false), argsText: 'level and option: the rows of the allowlist (native/net/host-options.ts)' },
  {
    nr: 56, name: 'clone', who: S, why: 'Node threads; stub processes and stub threads',
    args: oneOf(0, [PTHREAD_CLONE_FLAGS, VFORK_CLONE_FLAGS, STUB_START_CLONE_FLAGS, STUB_THREAD_CLONE_FLAGS]),
    argsText: 'flags: a pthread, a vfork child (posix_spawn), a stub\'s child (clone with CLONE_VM, no CLONE_VFORK) or a stub thread',
  },
  { nr: 56, name: 'clone', who: G, why: 'Node threads', args: oneOf(0, [PTHREAD_CLONE_FLAGS]), argsText: 'flags: a pthread' },
  { nr: 56, name: 'clone', who: ['stub'], gadget: 'inject', why: 'a new stub thread' },
  { nr: 56, name: 'clone', who: ['systrap-stub'], gadget: 'inject', why: 'the control thread clones an application thread' },
  { nr: 60, name: 'exit', who: SG, why: 'a thread exits' },
  { nr: 60, name: 'exit', who: ['stub'], gadget: 'inject', why: 'a stub thread exits' },
  { nr: 60, name: 'exit', who: ['systrap-stub'], gadget: ['inject', 'exit'], why: 'a thread exits (the sentry ends it, or the application ends its own thread: its process is then killed)' },
  { nr: 61, name: 'wait4', who: S, why: 'ptrace stops of the stubs; reaping stubs' },
  { nr: 62, name: 'kill', who: S, why: 'killing a stub process' },
  { nr: 72, name: 'fcntl', who: SG, why: 'descriptor flags; Tlopen duplicates' },
  { nr: 74, name: 'fsync', who: SG, why: 'the container\'s fsync of host files; Tfsync' },
  { nr: 75, name: 'fdatasync', who: G, why: 'Tfsync' },
  { nr: 77, name: 'ftruncate', who: SG, why: 'sizing the memory file; Tsetattr size' },
  { nr: 82, name: 'rename', who: SG, why: 'bin/tvisor publishes its code cache at exit (fs.renameSync)' },
  { nr: 87, name: 'unlink', who: SG, why: 'the sentry removes its sockets at exit; stale code caches' },
  { nr: 89, name: 'readlink', who: SG, why: 'ICU reads /etc/localtime when a log line is first timestamped; Node\'s realpath' },
  { nr: 101, name: 'ptrace', who: S, why: 'the ptrace platform', args: oneOf(0, Object.values(PTRACE)), argsText: 'request: the 13 the platform makes (no PEEK/POKE, no ATTACH)' },
  { nr: 107, name: 'geteuid', who: G, why: 'file ownership checks' },
  { nr: 109, name: 'setpgid', who: S, why: 'stub spawn: its own process group' },
  { nr: 110, name: 'getppid', who: S, why: 'stub spawn checks its parent' },
  { nr: 115, name: 'getgroups', who: G, why: 'per-request credentials: its own groups, put back after each request' },
  { nr: 116, name: 'setgroups', who: G, why: 'per-request credentials' },
  { nr: 122, name: 'setfsuid', who: G, why: 'per-request credentials' },
  { nr: 123, name: 'setfsgid', who: G, why: 'per-request credentials' },
  { nr: 125, name: 'capget', who: G, why: 'per-request capabilities' },
  { nr: 126, name: 'capset', who: G, why: 'per-request capabilities' },
  { nr: 131, name: 'sigaltstack', who: S, why: 'systrap platform: a new application thread\'s alternate signal stack, injected before its detach (stubs keep the sentry\'s filter under their own)' },
  { nr: 131, name: 'sigaltstack', who: ['systrap-stub'], gadget: 'inject', why: 'a new thread\'s alternate stack in its block, before its detach' },
  { nr: 135, name: 'personality', who: S, why: 'stub spawn disables ASLR', args: oneOf(0, [ADDR_NO_RANDOMIZE]), argsText: 'ADDR_NO_RANDOMIZE' },
  { nr: 138, name: 'fstatfs', who: G, why: 'Tstatfs' },
  { nr: 157, name: 'prctl', who: S, why: 'stub spawn and start-up; a stub\'s process title (PR_SET_MM_MAP, at its gadget)', args: [...oneOf(0, [PR_SET_PDEATHSIG, PR_SET_NAME, PR_SET_NO_NEW_PRIVS]), [eq(0, PR_SET_MM), eq(1, PR_SET_MM_MAP)]], argsText: 'option: PDEATHSIG, SET_NAME, NO_NEW_PRIVS, SET_MM with MM_MAP' },
  { nr: 157, name: 'prctl', who: ['stub'], gadget: 'inject', args: [[LOW32(0, PR_SET_NAME), eq(1, STUB_TITLE_COMM)], [LOW32(0, PR_SET_MM), LOW32(1, PR_SET_MM_MAP), eq(2, STUB_TITLE)]], argsText: 'SET_NAME from the title page; SET_MM MM_MAP of the title page (its executable field unset: no capability allows more)', why: 'the process title: the application\'s name and its argument range, shown by host ps and docker top' },
  { nr: 157, name: 'prctl', who: ['systrap-stub'], gadget: 'inject', args: [[LOW32(0, PR_SET_NAME)], [LOW32(0, PR_SET_MM), LOW32(1, PR_SET_MM_MAP)]], argsText: 'SET_NAME; SET_MM MM_MAP (the pointers are not pinned: filter A has no room)', why: 'the process title, as the ptrace stub\'s' },
  { nr: 158, name: 'arch_prctl', who: S, args: oneOf(0, [ARCH_SET_GS, ARCH_SET_FS]), argsText: 'SET_FS, SET_GS', why: 'a systrap stub, which keeps the sentry\'s filter under its own, loads a thread\'s fs/gs base on hosts without FSGSBASE' },
  { nr: 158, name: 'arch_prctl', who: ['systrap-stub'], gadget: 'arch', args: [[LOW32(0, ARCH_SET_FS)], [LOW32(0, ARCH_SET_GS)]], argsText: 'SET_FS, SET_GS', why: 'on hosts without FSGSBASE (rdfsbase/wrfsbase fault), the handler loads the fs/gs base the sentry answered (the thread\'s own base only)' },
  { nr: 186, name: 'gettid', who: S, why: 'the tracing thread of a new context' },
  { nr: 190, name: 'fsetxattr', who: G, why: 'Txattrcreate' },
  { nr: 193, name: 'fgetxattr', who: G, why: 'Txattrwalk' },
  { nr: 196, name: 'flistxattr', who: G, why: 'Txattrwalk' },
  { nr: 199, name: 'fremovexattr', who: G, why: 'Txattrcreate of size 0 with XATTR_REPLACE (removexattr), "user." names only' },
  { nr: 202, name: 'futex', who: SG, why: 'thread synchronisation' },
  { nr: 202, name: 'futex', who: ['systrap-stub'], gadget: ['wake', 'wait'], args: [[LOW32(1, FUTEX_WAKE)], [LOW32(1, FUTEX_WAIT)]], argsText: 'FUTEX_WAKE at the wake site, FUTEX_WAIT at the wait site', why: 'the handler wakes the sentry and sleeps until its answer (on the application\'s own memory at worst; the sentry bounds the wait)' },
  { nr: 203, name: 'sched_setaffinity', who: S, why: 'keeping a tracer and its stub thread on one CPU (ptrace; systrap while the machine has more runnable threads than CPUs)' },
  { nr: 204, name: 'sched_getaffinity', who: S, why: 'the tracer\'s CPU mask' },
  { nr: 217, name: 'getdents64', who: SG, why: 'Treaddir, Treaddirstat (native/fs/dirstat.cc); bin/tvisor lists stale code caches at exit' },
  { nr: 222, name: 'timer_create', who: S, why: 'the KVM platform\'s 10 ms time slice on a vCPU thread\'s CPU clock', args: [[LOW32(0, -2)]], argsText: 'clock: the calling thread\'s CPU clock' },
  { nr: 223, name: 'timer_settime', who: S, why: 'arming the KVM platform\'s time slice' },
  {
    nr: 228, name: 'clock_gettime', who: S,
    why: 'task CPU time: a stub process\'s clock after each switch, the tracer\'s own around a slice; the wall and monotonic clocks: the vDSO\'s fallback where the host\'s clocksource cannot be read in user mode (a VM\'s hpet or acpi_pm)',
    args: [[{ arg: 0, mask: 7n, value: 2n }], [eq(0, 3)], ...WALL_CLOCKS.map((c) => [eq(0, c)])],
    argsText: 'clock: a process CPU clock (CPUCLOCK_SCHED), CLOCK_THREAD_CPUTIME_ID, or a wall or monotonic clock (REALTIME, MONOTONIC, MONOTONIC_RAW, the COARSE ones, BOOTTIME)',
  },
  {
    nr: 228, name: 'clock_gettime', who: G,
    why: 'its main thread\'s CPU time, by which it tells that it is idle (native/idle-gc.ts); the wall and monotonic clocks: the vDSO\'s fallback where the host\'s clocksource cannot be read in user mode (a VM\'s hpet or acpi_pm)',
    args: [[eq(0, 3)], ...WALL_CLOCKS.map((c) => [eq(0, c)])],
    argsText: 'clock: CLOCK_THREAD_CPUTIME_ID, or REALTIME, MONOTONIC, MONOTONIC_RAW, REALTIME_COARSE, MONOTONIC_COARSE or BOOTTIME',
  },
  { nr: 96, name: 'gettimeofday', who: SG, why: 'the vDSO\'s fallback (as clock_gettime\'s)' },
  { nr: 231, name: 'exit_group', who: SG, why: 'the process exits' },
  { nr: 233, name: 'epoll_ctl', who: SG, why: 'libuv\'s event loop' },
  { nr: 234, name: 'tgkill', who: S, why: 'interrupting a running stub thread' },
  { nr: 254, name: 'inotify_add_watch', who: G, why: 'Twatch and Tcachewatch: a host watch on a fid\'s own descriptor, named by its number in /proc/self/fd (never a path of the export)' },
  { nr: 255, name: 'inotify_rm_watch', who: G, why: 'Tunwatch and Tuncachewatch, and a watch past the per-connection bound' },
  { nr: 257, name: 'openat', who: S, why: 'a terminal for exec -t (/pts/ptmx)', args: [[LOW32(0, AT_FDCWD)]], argsText: 'dirfd: AT_FDCWD (never relative to a host directory it holds)' },
  { nr: 257, name: 'openat', who: G, why: 'Tlopen re-opens a file through /proc/self/fd' },
  { nr: 258, name: 'mkdirat', who: G, why: 'Tmkdir' },
  { nr: 259, name: 'mknodat', who: G, why: 'Tmknod (fifos, sockets)' },
  { nr: 260, name: 'fchownat', who: G, why: 'Tsetattr uid and gid' },
  { nr: 262, name: 'newfstatat', who: SG, why: 'Node\'s fs.statSync' },
  { nr: 263, name: 'unlinkat', who: G, why: 'Tunlinkat' },
  { nr: 264, name: 'renameat', who: G, why: 'Trenameat' },
  { nr: 265, name: 'linkat', who: G, why: 'Tlink' },
  { nr: 266, name: 'symlinkat', who: G, why: 'Tsymlink' },
  { nr: 267, name: 'readlinkat', who: G, why: 'Treadlink' },
  { nr: 268, name: 'fchmodat', who: G, why: 'Tsetattr mode through /proc/self/fd (before Linux 6.6)' },
  { nr: 280, name: 'utimensat', who: G, why: 'Tsetattr times' },
  { nr: 273, name: 'set_robust_list', who: SG, why: 'glibc sets up each new thread' },
  { nr: 281, name: 'epoll_pwait', who: SG, why: 'libuv\'s event loop' },
  { nr: 285, name: 'fallocate', who: S, why: 'the memory file' },
  { nr: 288, name: 'accept4', who: SG, why: 'the sentry\'s control and exec connections; a gofer serving --socket' },
  { nr: 292, name: 'dup3', who: S, why: 'Node\'s stdio' },
  { nr: 294, name: 'inotify_init1', who: G, why: 'Twatch and Tcachewatch: a non-blocking host inotify instance of each kind per connection that watches' },
  { nr: 317, name: 'seccomp', who: S, why: 'stub start-up installs its own filter' },
  { nr: 317, name: 'seccomp', who: ['systrap-stub'], gadget: 'inject', args: [[eq(0, SECCOMP_SET_MODE_FILTER), eq(1, 0), eq(2, SYSTRAP_FPROG_B)]], argsText: 'SET_MODE_FILTER, no flags, filter B only', why: 'a new thread installs filter B, before its detach' },
  { nr: 318, name: 'getrandom', who: S, why: 'the container\'s getrandom (OpenSSL reseeds from the host)' },
  { nr: 322, name: 'execveat', who: S, why: 'stub spawn execs the stub binary from its descriptor', args: [[LOW32(0, 'stubFd'), eq(4, AT_EMPTY_PATH)]], argsText: 'the stub binary\'s descriptor, AT_EMPTY_PATH' },
  { nr: 332, name: 'statx', who: SG, why: 'Tgetattr, Treaddirstat (native/fs/dirstat.cc); Node\'s stat' },
  { nr: 334, name: 'rseq', who: SG, why: 'glibc registers each new thread' },
  { nr: 425, name: 'io_uring_setup', who: SG, action: 'enosys', why: 'ENOSYS: libuv keeps to its thread pool' },
  { nr: 435, name: 'clone3', who: SG, action: 'enosys', why: 'ENOSYS: glibc falls back to clone, whose flags the filter reads' },
  { nr: 436, name: 'close_range', who: S, why: 'stub spawn closes every descriptor but the memory file' },
  { nr: 437, name: 'openat2', who: G, why: 'every lookup: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS under an export' },
  { nr: 439, name: 'faccessat2', who: G, why: 'an exec open (LOPEN_EXEC) checks X_OK as the caller before reading' },
  { nr: 452, name: 'fchmodat2', who: G, why: 'Tsetattr mode (Linux 6.6+)' },
];

/** hostSyscallsOf returns the rows for `who`, ordered by number. */
export function hostSyscallsOf(who: HostProcess): HostSyscall[] {
  return HOST_SYSCALLS.filter((r) => r.who.includes(who)).sort((a, b) => a.nr - b.nr);
}
