// addon.cc is tvisor's ptrace addon: the calls where one crossing from JavaScript must do
// several things (set registers, resume, wait, fetch registers) or where the work cannot
// be expressed through koffi at all (starting a stub with clone(CLONE_VFORK) + execve).
//
// Every function runs synchronously on the calling thread, which must be the thread that
// traces `tid` (ptrace requests are only accepted from the attaching thread). Functions
// return a non-negative value or -errno; only spawnStub throws, with a message naming
// the step that failed. Argument shapes are checked in native/ptrace-addon.ts before the
// call; the checks here are the second line (a wrong type or short buffer throws).
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <string>

#include "../stub/layout.h"

namespace {

constexpr size_t kRegsSize = sizeof(struct user_regs_struct);
constexpr size_t kSiginfoSize = sizeof(siginfo_t);
constexpr long kTraceOptions = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE;
constexpr unsigned long kThreadCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                            CLONE_THREAD | CLONE_SYSVSEM;

int Tid(const Napi::CallbackInfo& info, size_t i) {
  int v = info[i].As<Napi::Number>().Int32Value();
  if (v <= 0) throw Napi::RangeError::New(info.Env(), "tid must be positive");
  return v;
}

uint8_t* Buf(const Napi::CallbackInfo& info, size_t i, size_t min) {
  auto b = info[i].As<Napi::Buffer<uint8_t>>();
  if (b.Length() < min) throw Napi::RangeError::New(info.Env(), "buffer too short");
  return b.Data();
}

// WaitStopped waits for the next state change of the traced thread `tid`, retrying EINTR.
int WaitTid(int tid, int* status, int flags = 0) {
  for (;;) {
    // SAFETY: tid is a thread this thread traces (or its child); __WALL covers clones.
    int r = waitpid(tid, status, __WALL | flags);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

int GetRegs(int tid, struct user_regs_struct* regs) {
  // SAFETY: tid is stopped under this thread's ptrace; regs is a full user_regs_struct.
  return ptrace(PTRACE_GETREGS, tid, nullptr, regs) < 0 ? -errno : 0;
}

int SetRegs(int tid, struct user_regs_struct* regs) {
  regs->cs = 0x33;  // __USER_CS: application code only ever runs in 64-bit user mode
  regs->ss = 0x2b;  // __USER_DS
  // SAFETY: as GetRegs; the kernel validates segment selectors and flags itself.
  return ptrace(PTRACE_SETREGS, tid, nullptr, regs) < 0 ? -errno : 0;
}

int Cont(int tid) {
  // SAFETY: tid is stopped under this thread's ptrace; 0 suppresses any pending signal.
  return ptrace(PTRACE_CONT, tid, nullptr, nullptr) < 0 ? -errno : 0;
}

// RunGadget resumes the stopped stub thread `tid` with `regs` (pointing into the stub's
// inject gadget) and waits for its int3 at STUB_INJECT_DONE; regs then hold the thread's
// registers there. Returns 0 or -errno. On clone, *child receives the new thread
// (auto-attached through PTRACE_O_TRACECLONE).
int AwaitGadget(int tid, struct user_regs_struct* regs, int* child);

int RunGadget(int tid, struct user_regs_struct* regs, int* child) {
  int err;
  if ((err = SetRegs(tid, regs)) || (err = Cont(tid))) return err;
  return AwaitGadget(tid, regs, child);
}

// AwaitGadget waits for the stub thread `tid`, resumed at the inject gadget, to stop at
// its int3 (RunGadget's second half); regs then hold its registers there.
int AwaitGadget(int tid, struct user_regs_struct* regs, int* child) {
  int err;
  for (;;) {
    int status;
    if ((err = WaitTid(tid, &status)) < 0) return err;
    if (!WIFSTOPPED(status)) return -ESRCH;  // the stub died (seccomp kill or SIGKILL)
    if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
      unsigned long msg = 0;
      // SAFETY: tid is in a PTRACE_EVENT_CLONE stop; msg receives the new thread's tid.
      if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg) < 0) return -errno;
      if (child) *child = static_cast<int>(msg);
    } else if (WSTOPSIG(status) == SIGTRAP) {
      if ((err = GetRegs(tid, regs))) return err;
      if (regs->rip != STUB_INJECT_DONE + 1) return -EFAULT;  // not our int3
      return 0;
    }
    // Any other stop (an interrupt signal) is suppressed: the gadget is not preemptible.
    if ((err = Cont(tid))) return err;
  }
}

// GadgetRegs points the stopped stub thread's registers `regs` (read by the caller) at
// the inject gadget for one call `nr(args)`.
void GadgetRegs(struct user_regs_struct& regs, long nr, const long args[6]) {
  regs.rip = STUB_INJECT;
  regs.r13 = 0;  // no batch: stop after this one call
  regs.rax = nr;
  regs.orig_rax = ~0ULL;
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
}

// Inject runs one host syscall in the stopped stub thread `tid`: registers point at the
// stub's inject gadget (`syscall`, then int3 since %r13 is 0), the only place the stub's
// seccomp filter allows it. On clone, *child receives the new thread.
long Inject(int tid, long nr, const long args[6], int* child) {
  struct user_regs_struct regs;
  int err = GetRegs(tid, &regs);
  if (err) return err;
  GadgetRegs(regs, nr, args);
  if ((err = RunGadget(tid, &regs, child))) return err;
  return static_cast<long>(regs.rax);
}

// spawnStub(path, memfd, exeFd, ids, batchOffset) -> pid
//
// Starts the stub binary as a traced child of the calling thread: clone(CLONE_VM) +
// execveat of the stub's descriptor (or execve of its path), never child_process (libuv
// would reap its ptrace stops); in two halves (startStub, finishStub) when the caller has
// work to do while the child execs (a spare stub made ahead of need). The child resets signal handling,
// asks for SIGKILL when this thread dies, disables ASLR (the stub's fixed address must
// not meet a randomised stack), keeps only the memory file (as fd STUB_MEMFD), takes the
// uid and gid `ids` when asked, and calls PTRACE_TRACEME. The parent waits for the exec stop,
// sets the trace options, hands the stub its batch page's memory-file offset in %r15
// (layout.h) and runs the stub to STUB_READY.
struct SpawnArgs {
  const char* path;
  int memfd;
  pid_t parent;
  // exeFd, when >= 0, is the stub binary opened beforehand: exec'd with execveat, so that
  // a sentry whose root no longer holds the binary's path can still start stubs.
  int exeFd;
  // ids, when >= 0, is the uid and gid the stub takes (a sentry that drops to them later
  // must still be able to signal and seize its first stubs).
  int ids;
};

// Raw makes a host syscall without libc: returns the kernel's result (-errno on failure)
// and touches no memory (SpawnChild's child shares the parent thread's TLS, hence errno).
long RawCall(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  long ret;
  // SAFETY: the x86-64 syscall convention; rcx and r11 are clobbered by the instruction.
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}

inline long Arg(long v) { return v; }
inline long Arg(unsigned v) { return static_cast<long>(v); }
inline long Arg(int v) { return v; }
inline long Arg(std::nullptr_t) { return 0; }
template <typename T>
long Arg(T* v) {
  return reinterpret_cast<long>(v);
}
template <typename... A>
long Raw(long n, A... args) {
  long v[6] = {Arg(args)...};
  return RawCall(n, v[0], v[1], v[2], v[3], v[4], v[5]);
}

int SpawnChild(void* p) {
  auto* a = static_cast<SpawnArgs*>(p);
  // SAFETY (whole function): runs on a private stack in the parent's memory while the
  // parent runs on (CLONE_VM without CLONE_VFORK: StartStub); only raw syscalls (Raw: no
  // errno, which is the parent thread's, its TLS being shared), then execve or exit.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) Raw(SYS_rt_sigaction, sig, &dfl, nullptr, 8);
  }
  sigset_t none;
  sigemptyset(&none);
  Raw(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, 8);
  if (Raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) Raw(SYS_exit_group, 126);
  if (Raw(SYS_getppid) != a->parent) Raw(SYS_exit_group, 126);
  if (Raw(SYS_personality, ADDR_NO_RANDOMIZE) < 0) Raw(SYS_exit_group, 126);
  // Its own process group: signals a terminal sends to the sentry's group (^C) must not
  // reach the stubs, which would report them as ptrace stops.
  if (Raw(SYS_setpgid, 0, 0) < 0) Raw(SYS_exit_group, 126);
  if (a->ids >= 0) {
    long r;
    // An empty bounding set too, as the sentry's once it has dropped (EINVAL: past the last capability).
    for (int cap = 0; cap < 64; cap++) {
      if ((r = Raw(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0)) < 0 && r != -EINVAL) Raw(SYS_exit_group, 126);
    }
    if (Raw(SYS_setgroups, 0, nullptr) < 0 || Raw(SYS_setresgid, a->ids, a->ids, a->ids) < 0 ||
        Raw(SYS_setresuid, a->ids, a->ids, a->ids) < 0) {
      Raw(SYS_exit_group, 126);
    }
  }
  // The stub binary's descriptor (close-on-exec: gone once exec'd) must lie above
  // STUB_MEMFD; it keeps its number otherwise, which the sentry's filter checks.
  int exe = a->exeFd;
  if (exe >= 0 && exe <= STUB_MEMFD && (exe = static_cast<int>(Raw(SYS_fcntl, exe, F_DUPFD_CLOEXEC, STUB_MEMFD + 1))) < 0) {
    Raw(SYS_exit_group, 126);
  }
  if (a->memfd == STUB_MEMFD) {
    if (Raw(SYS_fcntl, STUB_MEMFD, F_SETFD, 0) < 0) Raw(SYS_exit_group, 126);
  } else if (Raw(SYS_dup2, a->memfd, STUB_MEMFD) < 0) {
    Raw(SYS_exit_group, 126);
  }
  for (int fd = 0; fd < STUB_MEMFD; fd++) Raw(SYS_close, fd);
  if (exe < 0) {
    Raw(SYS_close_range, STUB_MEMFD + 1, ~0U, 0);
  } else {
    if (Raw(SYS_close_range, STUB_MEMFD + 1, exe - 1, 0) < 0) Raw(SYS_exit_group, 126);
    Raw(SYS_close_range, exe + 1, ~0U, 0);
  }
  if (Raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) < 0) Raw(SYS_exit_group, 126);
  char* const argv[] = {const_cast<char*>("tvisor-stub"), nullptr};
  char* const envp[] = {nullptr};
  if (exe >= 0) {
    Raw(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
  } else {
    Raw(SYS_execve, a->path, argv, envp);
  }
  Raw(SYS_exit_group, 127);
  return 127;
}

std::string StatusText(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped by signal " + std::to_string(WSTOPSIG(status));
}

// A started stub: its child runs SpawnChild on `stack` until its exec, which FinishStub
// waits for; args and stack live until then.
struct Started {
  std::string path;
  SpawnArgs args;
  void* stack;  // freed once the child is seen exec'd or dead
  int64_t batchOffset;
  bool resumed;        // taken past its exec stop (ResumeFromExec)
  std::string failed;  // what went wrong while advancing, for FinishStub to report
};
// Stubs started by this thread and not finished yet (their tracer is this thread).
thread_local std::map<pid_t, Started*> started;

constexpr size_t kSpawnStack = 64 * 1024;

// StartStub clones the stub's child (SpawnChild) without waiting for it: returns its pid
// or throws. The child shares this process's memory (CLONE_VM, for a cheap clone) but not
// its suspension (no CLONE_VFORK): it sets itself up and execs while the caller goes on.
pid_t StartStub(Napi::Env env, const std::string& path, int memfd, int exeFd, int ids, int64_t batchOffset) {
  if (batchOffset < 0 || batchOffset % 4096) throw Napi::RangeError::New(env, "stub spawn: batch page offset must be page-aligned");
  auto* st = new Started{path, {nullptr, memfd, getpid(), exeFd, ids}, malloc(kSpawnStack), batchOffset, false, ""};
  st->args.path = st->path.c_str();
  if (!st->stack) {
    delete st;
    throw Napi::Error::New(env, "stub spawn: out of memory");
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // SAFETY: the child uses only `st` (args, path) and `stack`, both kept until FinishStub
  // or AbandonStub has seen it exec or die; it makes raw syscalls only (no errno, no
  // allocation), so the parent's threads running on meanwhile share nothing it changes.
  // Signals are blocked across the clone so that the child starts with all blocked: no
  // handler of this process runs on the child's borrowed stack before it resets them.
  pid_t pid = clone(SpawnChild, static_cast<char*>(st->stack) + kSpawnStack, CLONE_VM | SIGCHLD, &st->args);
  int cloneErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    free(st->stack);
    delete st;
    throw Napi::Error::New(env, std::string("stub spawn: clone: ") + strerror(cloneErr));
  }
  started[pid] = st;
  return pid;
}

// ResumeFromExec takes started stub `pid` (at its exec stop, `status`) on: frees the
// borrowed stack, sets the trace options, hands it its batch page's offset (%r15) and
// resumes it towards STUB_READY. Returns "" or what failed.
std::string ResumeFromExec(pid_t pid, Started* st, int status) {
  // The child has exec'd (a stop) or died: its borrowed stack is free.
  free(st->stack);
  st->stack = nullptr;
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) return "did not reach exec (" + StatusText(status) + ")";
  // SAFETY: pid is our stopped tracee; the options only add reporting and EXITKILL.
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr, kTraceOptions) < 0) return std::string("PTRACE_SETOPTIONS: ") + strerror(errno);
  struct user_regs_struct regs;
  if (GetRegs(pid, &regs) < 0) return std::string("PTRACE_GETREGS: ") + strerror(errno);
  regs.r15 = static_cast<unsigned long long>(st->batchOffset);
  // SAFETY: pid is stopped at its exec; only %r15 changes (the prologue's batch page offset).
  if (SetRegs(pid, &regs) < 0) return std::string("PTRACE_SETREGS: ") + strerror(errno);
  if (Cont(pid) < 0) return "resume failed";
  st->resumed = true;
  return "";
}

// FinishStub runs started stub `pid` to STUB_READY: from its exec stop (ResumeFromExec)
// unless AdvanceStub did that already, then waits for the ready stop. Throws naming the
// step that failed (the child is then killed and reaped).
void FinishStub(Napi::Env env, pid_t pid) {
  auto it = started.find(pid);
  if (it == started.end()) throw Napi::RangeError::New(env, "stub spawn: pid " + std::to_string(pid) + " was not started by this thread");
  Started* st = it->second;
  started.erase(it);
  std::string path = st->path;
  std::string failed = st->failed;
  int status;
  if (failed.empty() && !st->resumed) {
    int waited = WaitTid(pid, &status);
    failed = waited < 0 ? std::string("wait: ") + strerror(-waited) : ResumeFromExec(pid, st, status);
  }
  if (st->stack) free(st->stack);
  delete st;
  auto fail = [&](const std::string& what) {
    kill(pid, SIGKILL);
    int ignored;
    WaitTid(pid, &ignored);
    throw Napi::Error::New(env, "stub " + path + ": " + what);
  };
  if (!failed.empty()) fail(failed);
  struct user_regs_struct regs;
  if (WaitTid(pid, &status) < 0) fail("resume failed");
  if (!WIFSTOPPED(status) || GetRegs(pid, &regs) < 0) fail("initialisation: " + StatusText(status));
  if (regs.rip != STUB_READY + 1) {
    fail("initialisation failed at 0x" + std::to_string(regs.rip) + " (rax " + std::to_string(static_cast<long>(regs.rax)) +
         ", " + StatusText(status) + ")");
  }
}

// advanceStub(pid) -> 1 when started stub `pid` was at its exec stop and is now running
// its start-up towards STUB_READY (finishStub then only waits for it), 0 when it is not
// there yet (or was advanced already). Never blocks.
Napi::Value AdvanceStub(const Napi::CallbackInfo& info) {
  pid_t pid = Tid(info, 0);
  auto it = started.find(pid);
  if (it == started.end() || it->second->resumed || !it->second->failed.empty()) return Napi::Number::New(info.Env(), 0);
  int status;
  int r = WaitTid(pid, &status, WNOHANG);
  if (r == 0) return Napi::Number::New(info.Env(), 0);
  std::string failed = r < 0 ? std::string("wait: ") + strerror(-r) : ResumeFromExec(pid, it->second, status);
  if (!failed.empty()) {
    it->second->failed = failed;  // finishStub reports it
    return Napi::Number::New(info.Env(), 0);
  }
  return Napi::Number::New(info.Env(), 1);
}

Napi::Value SpawnStub(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = StartStub(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                        info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
                        info[4].As<Napi::Number>().Int64Value());
  FinishStub(env, pid);
  return Napi::Number::New(env, pid);
}

// startStub(path, memfd, exeFd, ids, batchOffset) -> pid: spawnStub's first half (the
// child sets itself up and execs while the caller goes on); finishStub(pid) its second.
Napi::Value StartStubJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, StartStub(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                                          info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
                                          info[4].As<Napi::Number>().Int64Value()));
}

Napi::Value FinishStubJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FinishStub(env, Tid(info, 0));
  return env.Undefined();
}

// abandonStub(pid) -> 0: a started stub not wanted after all is killed and reaped.
Napi::Value AbandonStub(const Napi::CallbackInfo& info) {
  pid_t pid = Tid(info, 0);
  auto it = started.find(pid);
  if (it == started.end()) return Napi::Number::New(info.Env(), -ESRCH);
  kill(pid, SIGKILL);
  int status;
  WaitTid(pid, &status);
  // Reaped: the child no longer uses its stack.
  if (it->second->stack) free(it->second->stack);
  delete it->second;
  started.erase(it);
  return Napi::Number::New(info.Env(), 0);
}

// injectSyscall(tid, nr, a0..a5) -> result or -errno of the ptrace machinery.
Napi::Value InjectSyscall(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  long nr = info[1].As<Napi::Number>().Int64Value();
  long args[6];
  for (int i = 0; i < 6; i++) args[i] = info[2 + i].As<Napi::Number>().Int64Value();
  return Napi::Number::New(info.Env(), static_cast<double>(Inject(tid, nr, args, nullptr)));
}

// startSyscall(tid, nr, a0..a5) -> 0 or -errno: Inject's first half. The stopped stub
// thread `tid` is resumed at the inject gadget for one call (registers only: the batch
// page, which the file's other stubs share, is not used) and left running on whatever
// CPU the scheduler gives it, its affinity widened to every CPU: the call
// runs while the caller goes on. finishSyscall(tid) waits for its stop. Nothing else may
// be asked of the thread in between.
Napi::Value StartSyscall(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  long nr = info[1].As<Napi::Number>().Int64Value();
  long args[6];
  for (int i = 0; i < 6; i++) args[i] = info[2 + i].As<Napi::Number>().Int64Value();
  struct user_regs_struct regs;
  int err = GetRegs(tid, &regs);
  if (err) return Napi::Number::New(info.Env(), err);
  GadgetRegs(regs, nr, args);
  cpu_set_t mask;
  memset(&mask, 0xff, sizeof mask);
  // SAFETY: widens the affinity of a thread of our own stub to every CPU its cpuset
  // allows (the kernel intersects); failure only keeps it where it was.
  sched_setaffinity(tid, sizeof mask, &mask);
  if ((err = SetRegs(tid, &regs)) || (err = Cont(tid))) return Napi::Number::New(info.Env(), err);
  return Napi::Number::New(info.Env(), 0);
}

// finishSyscall(tid) -> the call's result (rax), or -errno of the ptrace machinery:
// waits for the stop of a call startSyscall started.
Napi::Value FinishSyscall(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  struct user_regs_struct regs;
  int err = AwaitGadget(tid, &regs, nullptr);
  if (err) return Napi::Number::New(info.Env(), err);
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<long>(regs.rax)));
}

// pollSyscall(tid, out) -> 1 when the call startSyscall started has stopped (out[0] its
// result; finishSyscall must not be called then), 0 when it has not yet, or -errno of the
// ptrace machinery. Never blocks (an interrupt stop meanwhile is suppressed, as
// AwaitGadget does).
Napi::Value PollSyscall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = Tid(info, 0);
  auto out = info[1].As<Napi::Float64Array>();
  if (out.ElementLength() < 1) throw Napi::RangeError::New(env, "out too short");
  for (;;) {
    int status;
    int r = WaitTid(tid, &status, WNOHANG);
    if (r < 0) return Napi::Number::New(env, r);
    if (r == 0) return Napi::Number::New(env, 0);
    if (!WIFSTOPPED(status)) return Napi::Number::New(env, -ESRCH);
    if (WSTOPSIG(status) == SIGTRAP && status >> 16 == 0) {
      struct user_regs_struct regs;
      int err = GetRegs(tid, &regs);
      if (err) return Napi::Number::New(env, err);
      if (regs.rip != STUB_INJECT_DONE + 1) return Napi::Number::New(env, -EFAULT);  // not our int3
      out[0] = static_cast<double>(static_cast<long>(regs.rax));
      return Napi::Number::New(env, 1);
    }
    // SAFETY: tid is our stopped tracee; 0 suppresses the stop's signal (an interrupt).
    if (Cont(tid) < 0) return Napi::Number::New(env, -errno);
  }
}

// injectBatch(tid, count, out) -> 0 or -errno of the ptrace machinery.
//
// The stopped stub thread `tid` runs the first `count` entries of its batch page
// (layout.h; the caller wrote them through the memory file) in one stop: out[0] receives
// how many completed, out[1] the result of the last one run (the failing one's -errno
// when out[0] < count; the calls after it were not run).
Napi::Value InjectBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = Tid(info, 0);
  long count = info[1].As<Napi::Number>().Int64Value();
  if (count <= 0 || count > STUB_BATCH_MAX) throw Napi::RangeError::New(env, "batch count out of range");
  auto out = info[2].As<Napi::Float64Array>();
  if (out.ElementLength() < 2) throw Napi::RangeError::New(env, "out too short");
  struct user_regs_struct regs;
  int err = GetRegs(tid, &regs);
  if (err) return Napi::Number::New(env, err);
  regs.rip = STUB_BATCH;
  regs.orig_rax = ~0ULL;
  regs.r12 = STUB_BATCH_PAGE;
  regs.r13 = static_cast<unsigned long long>(count);
  if ((err = RunGadget(tid, &regs, nullptr))) return Napi::Number::New(env, err);
  // %r13 counts the entries not completed (the failing one included): 0 once all ran.
  if (regs.r13 > static_cast<unsigned long long>(count)) return Napi::Number::New(env, -EPROTO);
  out[0] = static_cast<double>(count - static_cast<long>(regs.r13));
  out[1] = static_cast<double>(static_cast<long>(regs.rax));
  return Napi::Number::New(env, 0);
}

// cloneThread(tid) -> new thread's tid, stopped and traced by this thread, or -errno.
Napi::Value CloneThread(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  long args[6] = {static_cast<long>(kThreadCloneFlags), 0, 0, 0, 0, 0};
  int child = 0;
  long r = Inject(tid, SYS_clone, args, &child);
  if (r < 0) return Napi::Number::New(info.Env(), static_cast<double>(r));
  if (child != r) return Napi::Number::New(info.Env(), -EPROTO);
  int status;
  // The new thread starts with SIGSTOP pending; wait for that first stop.
  int err = WaitTid(child, &status);
  if (err < 0) return Napi::Number::New(info.Env(), err);
  if (!WIFSTOPPED(status)) return Napi::Number::New(info.Env(), -ESRCH);
  return Napi::Number::New(info.Env(), child);
}

// The tracing thread is held on its stub's CPU across round trips: otherwise the wake-up
// at the stub's stop often lands it on an idle CPU (the stub is still running on this
// one) and the round trip becomes a cross-CPU one (measured: 10 us -> 18-50 us). The hold
// is released every kHoldSwitches round trips so that the scheduler can still spread
// tracers (and, through re-pinning, their stubs) over the CPUs.
constexpr int kHoldSwitches = 1000;
thread_local cpu_set_t tracerMask;
thread_local int tracerHeldCpu = -1;
thread_local int tracerHeldFor = 0;

void HoldTracer(int cpu) {
  if (tracerHeldCpu == cpu) return;
  if (tracerHeldCpu < 0 && sched_getaffinity(0, sizeof tracerMask, &tracerMask) < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // SAFETY: narrows this thread's own affinity to the CPU it runs on; ReleaseTracer
  // restores the mask read just before.
  if (sched_setaffinity(0, sizeof set, &set) == 0) {
    tracerHeldCpu = cpu;
    tracerHeldFor = kHoldSwitches;
  }
}

void ReleaseTracer() {
  if (tracerHeldCpu < 0) return;
  // SAFETY: restores this thread's own affinity as it was before HoldTracer.
  sched_setaffinity(0, sizeof tracerMask, &tracerMask);
  tracerHeldCpu = -1;
}

// switchThread(tid, regs, siginfo, cpu, fp) -> wait status, or -errno.
//
// The hot path: pin the stub thread to this thread's CPU if it moved (state[0] holds the
// last pinned CPU, state[1] != 0 disables pinning), load `fp` if given, set the registers,
// PTRACE_SYSEMU, wait, then read registers (and siginfo for a signal stop) back.
// processCpuNs(pid) -> the CPU time (ns) of stub process pid, or -errno. Only one thread of
// a stub runs at a time (the sentry switches into one task at a time), so the growth of
// this clock between two samples is the time the threads that ran meanwhile used.
Napi::Value ProcessCpuNs(const Napi::CallbackInfo& info) {
  int pid = Tid(info, 0);
  // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) from the kernel's posix-timers.h.
  clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(pid)) << 3) | 2;
  struct timespec ts;
  // SAFETY: a read-only clock of our own child process; ts is a local.
  if (clock_gettime(clock, &ts) < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec));
}

// threadCpuNs() -> the calling thread's CPU time in ns, or -errno.
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  // SAFETY: reads the calling thread's own clock into a local.
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec));
}

// readTsc() -> the time-stamp counter (a BigInt), read after an lfence as the vDSO reads it.
Napi::Value ReadTsc(const Napi::CallbackInfo& info) {
  uint32_t lo, hi;
  // SAFETY: rdtsc reads a per-CPU counter into two registers; no memory is touched (the
  // sentry never sets PR_SET_TSC, so it does not fault).
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return Napi::BigInt::New(info.Env(), (static_cast<uint64_t>(hi) << 32) | lo);
}

// PinToTracer pins stub thread `tid` to the CPU this thread runs on if it moved (st[0]
// holds the last pinned CPU, st[1] != 0 disables pinning).
void PinToTracer(int tid, int32_t* st) {
  if (st[1]) return;
  int cpu = sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // SAFETY: affinity of a thread of our own stub; failure only costs speed.
  if (cpu != st[0] && sched_setaffinity(tid, sizeof set, &set) == 0) st[0] = cpu;
}

// pinThread(tid, state) -> undefined: before injected calls into the stub thread `tid`,
// pins it to this thread's CPU as switchThread does (state as switchThread's) and holds
// this thread there, so that the injection's two wake-ups stay on one CPU.
Napi::Value PinThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = Tid(info, 0);
  auto state = info[1].As<Napi::Int32Array>();
  if (state.ElementLength() < 2) throw Napi::RangeError::New(env, "state too short");
  int32_t* st = state.Data();
  PinToTracer(tid, st);
  if (!st[1] && st[0] >= 0) HoldTracer(st[0]);
  return env.Undefined();
}

Napi::Value SwitchThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = Tid(info, 0);
  auto* regs = reinterpret_cast<struct user_regs_struct*>(Buf(info, 1, kRegsSize));
  uint8_t* si = Buf(info, 2, kSiginfoSize);
  auto state = info[3].As<Napi::Int32Array>();
  if (state.ElementLength() < 2) throw Napi::RangeError::New(env, "state too short");
  int32_t* st = state.Data();
  PinToTracer(tid, st);
  int err;
  if (info[4].IsBuffer()) {
    auto fp = info[4].As<Napi::Buffer<uint8_t>>();
    struct iovec iov = {fp.Data(), fp.Length()};
    // SAFETY: tid is stopped under this thread; the kernel validates the xsave image.
    if (ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) < 0) {
      return Napi::Number::New(env, -errno);
    }
  }
  if ((err = SetRegs(tid, regs))) return Napi::Number::New(env, err);
  if (!st[1] && st[0] >= 0) HoldTracer(st[0]);
  // SAFETY: tid is stopped under this thread; SYSEMU stops it again at its next syscall
  // entry (before seccomp and before the syscall runs) or at any signal.
  if (ptrace(PTRACE_SYSEMU, tid, nullptr, nullptr) < 0) return Napi::Number::New(env, -errno);
  int status;
  err = WaitTid(tid, &status);
  if (tracerHeldCpu >= 0 && --tracerHeldFor <= 0) ReleaseTracer();
  if (err < 0) return Napi::Number::New(env, err);
  if (WIFSTOPPED(status)) {
    if ((err = GetRegs(tid, regs))) return Napi::Number::New(env, err);
    if (WSTOPSIG(status) != (SIGTRAP | 0x80) && (status >> 16) == 0) {
      // SAFETY: a signal-delivery stop; si is at least sizeof(siginfo_t).
      if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, si) < 0) return Napi::Number::New(env, -errno);
    }
  }
  return Napi::Number::New(env, status);
}

// getRegs(tid, buf) / setRegs(tid, buf) -> 0 or -errno.
Napi::Value GetRegsJs(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  auto* regs = reinterpret_cast<struct user_regs_struct*>(Buf(info, 1, kRegsSize));
  return Napi::Number::New(info.Env(), GetRegs(tid, regs));
}

Napi::Value SetRegsJs(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  auto* regs = reinterpret_cast<struct user_regs_struct*>(Buf(info, 1, kRegsSize));
  return Napi::Number::New(info.Env(), SetRegs(tid, regs));
}

// getFpState(tid, buf) -> bytes written (the xsave image size), or -errno.
Napi::Value GetFpState(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  auto b = info[1].As<Napi::Buffer<uint8_t>>();
  struct iovec iov = {b.Data(), b.Length()};
  // SAFETY: tid is stopped under this thread; the kernel writes at most iov_len bytes.
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) < 0) {
    return Napi::Number::New(info.Env(), -errno);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(iov.iov_len));
}

// parkAndDetach(tid) -> 0 or -errno: the thread waits in pause() at STUB_PARK, untraced,
// for another thread of this process to seize it.
Napi::Value ParkAndDetach(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  struct user_regs_struct regs;
  int err = GetRegs(tid, &regs);
  if (err) return Napi::Number::New(info.Env(), err);
  regs.rip = STUB_PARK;
  regs.orig_rax = ~0ULL;
  if ((err = SetRegs(tid, &regs))) return Napi::Number::New(info.Env(), err);
  // SAFETY: detaching leaves the thread in the park loop, which the filter confines to pause.
  if (ptrace(PTRACE_DETACH, tid, nullptr, nullptr) < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), 0);
}

// seize(tid) -> 0 or -errno: attach a parked stub thread to this thread and stop it.
Napi::Value Seize(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  // SAFETY: tid is a parked thread of one of our stubs; EXITKILL ties it to this thread.
  if (ptrace(PTRACE_SEIZE, tid, nullptr, kTraceOptions) < 0 ||
      ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) < 0) {
    return Napi::Number::New(info.Env(), -errno);
  }
  int status;
  int err = WaitTid(tid, &status);
  if (err < 0) return Napi::Number::New(info.Env(), err);
  if (!WIFSTOPPED(status)) return Napi::Number::New(info.Env(), -ESRCH);
  return Napi::Number::New(info.Env(), 0);
}

// exitThread(tid) -> 0 or -errno: the stub thread runs exit(0) at the inject gadget and
// is reaped; the rest of its process is untouched.
Napi::Value ExitThread(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  long args[6] = {0, 0, 0, 0, 0, 0};
  long r = Inject(tid, SYS_exit, args, nullptr);
  // The thread is gone once Inject sees it exit (-ESRCH); anything else is an error.
  return Napi::Number::New(info.Env(), static_cast<double>(r == -ESRCH ? 0 : (r < 0 ? r : -EPROTO)));
}

// A host seccomp filter in debug mode returns SECCOMP_RET_TRAP for a syscall it does not
// allow: the kernel skips the call and sends SIGSYS to the calling thread, whose
// si_syscall names it. The handler writes one line naming the syscall and the process
// to the debug descriptor, then ends the whole process, as the kill action would have.
namespace sigsys {
int fd = 2;
char prefix[96];
constexpr int kNames = 512;
const char* names[kNames];

void Append(char* buf, size_t* n, size_t cap, const char* s) {
  while (*s && *n < cap) buf[(*n)++] = *s++;
}

void AppendHex(char* buf, size_t* n, size_t cap, unsigned long long v) {
  char digits[16];
  int d = 0;
  do {
    digits[d++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v && d < 16);
  Append(buf, n, cap, "0x");
  while (d > 0 && *n < cap) buf[(*n)++] = digits[--d];
}

void Handler(int, siginfo_t* si, void* ctx) {
  // SAFETY: async-signal-safe only: formatting into a stack buffer, raw write and exit.
  // ctx is the kernel's ucontext_t for this signal; its registers hold the arguments.
  char buf[384];
  size_t n = 0;
  int nr = si->si_syscall;
  Append(buf, &n, sizeof buf, prefix);
  Append(buf, &n, sizeof buf, ": host syscall ");
  Append(buf, &n, sizeof buf, nr >= 0 && nr < kNames && names[nr] ? names[nr] : "?");
  Append(buf, &n, sizeof buf, " (");
  char digits[12];
  int d = 0;
  unsigned v = static_cast<unsigned>(nr);
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && d < 12);
  while (d > 0 && n < sizeof buf) buf[n++] = digits[--d];
  // The first four arguments (an ioctl's request, a prctl's option...): which row is missing.
  const greg_t* r = static_cast<ucontext_t*>(ctx)->uc_mcontext.gregs;
  Append(buf, &n, sizeof buf, ", arguments");
  for (int reg : {REG_RDI, REG_RSI, REG_RDX, REG_R10}) {
    Append(buf, &n, sizeof buf, " ");
    AppendHex(buf, &n, sizeof buf, static_cast<unsigned long long>(r[reg]));
  }
  Append(buf, &n, sizeof buf, ") is not in its seccomp allowlist; the process ends\n");
  syscall(SYS_write, fd, buf, n);
  syscall(SYS_exit_group, 128 + SIGSYS);
}
}  // namespace sigsys

// reportSigsys(fd, prefix, names) -> 0 or -errno: install the SIGSYS handler above.
Napi::Value ReportSigsys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sigsys::fd = info[0].As<Napi::Number>().Int32Value();
  std::string prefix = info[1].As<Napi::String>().Utf8Value();
  snprintf(sigsys::prefix, sizeof sigsys::prefix, "%s", prefix.c_str());
  auto names = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length() && i < static_cast<uint32_t>(sigsys::kNames); i++) {
    Napi::Value v = names[i];
    // Kept for the life of the process: the handler may run at any time.
    if (v.IsString()) sigsys::names[i] = strdup(v.As<Napi::String>().Utf8Value().c_str());
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = sigsys::Handler;
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  // SAFETY: SIGSYS is not used by Node or V8; the handler only writes and exits.
  if (sigaction(SIGSYS, &sa, nullptr) < 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, 0);
}

// waitThread(tid, nohang) -> wait status, 0 when nohang and nothing changed, or -errno.
Napi::Value WaitThread(const Napi::CallbackInfo& info) {
  int tid = Tid(info, 0);
  int status = 0;
  int r = WaitTid(tid, &status, info[1].ToBoolean() ? WNOHANG : 0);
  if (r < 0) return Napi::Number::New(info.Env(), r);
  if (r == 0) return Napi::Number::New(info.Env(), -EAGAIN);
  return Napi::Number::New(info.Env(), status);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["spawnStub"] = Napi::Function::New(env, SpawnStub, "spawnStub");
  exports["injectSyscall"] = Napi::Function::New(env, InjectSyscall, "injectSyscall");
  exports["startStub"] = Napi::Function::New(env, StartStubJs, "startStub");
  exports["finishStub"] = Napi::Function::New(env, FinishStubJs, "finishStub");
  exports["advanceStub"] = Napi::Function::New(env, AdvanceStub, "advanceStub");
  exports["abandonStub"] = Napi::Function::New(env, AbandonStub, "abandonStub");
  exports["injectBatch"] = Napi::Function::New(env, InjectBatch, "injectBatch");
  exports["cloneThread"] = Napi::Function::New(env, CloneThread, "cloneThread");
  exports["switchThread"] = Napi::Function::New(env, SwitchThread, "switchThread");
  exports["pinThread"] = Napi::Function::New(env, PinThread, "pinThread");
  exports["startSyscall"] = Napi::Function::New(env, StartSyscall, "startSyscall");
  exports["finishSyscall"] = Napi::Function::New(env, FinishSyscall, "finishSyscall");
  exports["pollSyscall"] = Napi::Function::New(env, PollSyscall, "pollSyscall");
  exports["threadCpuNs"] = Napi::Function::New(env, ThreadCpuNs, "threadCpuNs");
  exports["readTsc"] = Napi::Function::New(env, ReadTsc, "readTsc");
  exports["processCpuNs"] = Napi::Function::New(env, ProcessCpuNs, "processCpuNs");
  exports["getRegs"] = Napi::Function::New(env, GetRegsJs, "getRegs");
  exports["setRegs"] = Napi::Function::New(env, SetRegsJs, "setRegs");
  exports["getFpState"] = Napi::Function::New(env, GetFpState, "getFpState");
  exports["parkAndDetach"] = Napi::Function::New(env, ParkAndDetach, "parkAndDetach");
  exports["seize"] = Napi::Function::New(env, Seize, "seize");
  exports["exitThread"] = Napi::Function::New(env, ExitThread, "exitThread");
  exports["waitThread"] = Napi::Function::New(env, WaitThread, "waitThread");
  exports["reportSigsys"] = Napi::Function::New(env, ReportSigsys, "reportSigsys");
  exports["regsSize"] = Napi::Number::New(env, kRegsSize);
  exports["siginfoSize"] = Napi::Number::New(env, kSiginfoSize);
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_ptrace, Init)
