// addon.cc is tvisor's systrap addon: the sentry's half of a round trip with a stub thread
// over the thread's shared block (layout.h). The stub's handler leaves the signal frame
// on the block's alternate stack and sets the state to EVENT; the sentry reads the frame
// into a user_regs_struct, writes the answer back into the frame, sets RESUME and waits
// for the next EVENT: first spinning, then sleeping on the state futex. While the machine
// has more runnable threads than CPUs, the stub thread is pinned to the sentry's CPU and
// neither side spins (Placement, below).
//
// The block is writable by the application (it lives in the stub process, whose other
// threads run application code): every address read from it is checked to lie inside
// the block before it is followed, and no value read from it decides anything but the
// event reported for that application thread. A thread that does not answer is kicked
// with SIGVTALRM after kKickNs and declared broken after kBrokenNs (the caller then kills
// its process): a thread the application parked in the stub's futex site, or whose
// frame it corrupted, cannot hold the sentry.
//
// Calls run synchronously on the calling thread; they return a non-negative value or
// -errno, and throw only on malformed arguments (checked first in systrap-native.ts).
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"

namespace {

constexpr size_t kRegsSize = sizeof(struct user_regs_struct);
constexpr size_t kInfoSize = 32;
// Spin bounds (ns): how long the sentry spins for an event, and the stub for an answer,
// before sleeping, when the recent round trips say it is worth it (setSpin changes them;
// 0 turns a side's spinning off). platform/README.md has the figures behind them.
int64_t sentrySpinNs = 20 * 1000;
int64_t stubSpinNs = 20 * 1000;

// The adaptive state of this thread's round trips (one JavaScript thread runs a
// context's switches): moving averages of the application's runs (resume to event) and
// of the sentry's handling (return of one switch to the next call), each sample capped
// at four bounds so that one long run is forgotten after a few short ones.
thread_local int64_t avgRunNs = INT64_MAX / 2;
thread_local int64_t avgHandleNs = INT64_MAX / 2;
thread_local int64_t lastReturnNs = 0;

// Placement: where the stub thread runs against the sentry thread that switches to it.
// Spread (the scheduler's choice, usually another CPU): both sides may spin, which is the
// fastest hand-off while each has a CPU of its own (bench-platform: 9 us a round trip
// against 18-20 us pinned, load 4). Pinned (the stub thread on the sentry's CPU, the
// sentry held there, as the ptrace backend holds its tracer): a futex hand-off on one CPU
// and no spinning at all, which keeps its cost when the machine has more runnable threads
// than CPUs, where spinners that yield wait for other work's time slices (spread: 25-177
// us under two CPU-bound processes on 2 CPUs, pinned 27-44 us, ptrace 24-41 us).
// kAuto picks between them from the machine's runnable count (/proc/loadavg's running
// field: every runnable thread, this one included), sampled every kSampleNs: pinned as
// soon as a sample shows more runnable threads than this process may use CPUs with the
// two sides spinning (the sentry, the stub, and anything else), spread again once
// kCalmSamples samples in a row show room for both.
enum Placement { kAuto = 0, kSpread = 1, kPinned = 2 };
Placement placement = kAuto;
constexpr int64_t kSampleNs = 10 * 1000 * 1000;
constexpr int kCalmSamples = 10;
// loadavgFd is /proc/loadavg, opened when the addon loads (before the sentry is confined);
// -1 when it could not be: kAuto then stays spread (the behaviour before placement).
int loadavgFd = -1;
// processMask is the sentry's affinity when the addon loaded (an unpinned stub thread's); cpus its size.
cpu_set_t processMask;
int cpus = 1;
thread_local bool autoPinned = false;
thread_local int calm = 0;
thread_local int64_t lastSampleNs = 0;

// RunnableNow reads the running count of /proc/loadavg ("0.50 0.40 0.30 3/120 4567"), or -1.
int RunnableNow() {
  char buf[128];
  // SAFETY: a read of a procfs file this addon opened, into a local buffer; offset 0 makes
  // the kernel generate the line afresh.
  ssize_t n = pread(loadavgFd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char* p = buf;
  for (int field = 0; field < 3 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p ? atoi(p) : -1;
}

// Pinned decides the placement of the next round trip (kAuto: from a fresh sample, if due).
bool Pinned(int64_t now) {
  if (placement != kAuto) return placement == kPinned;
  if (loadavgFd < 0 || now - lastSampleNs < kSampleNs) return autoPinned;
  lastSampleNs = now;
  int running = RunnableNow();
  if (running < 0) return autoPinned;
  // Pinned, the pair counts once (one side runs at a time); spread and spinning, twice.
  int ours = autoPinned ? 1 : 2;
  if (running - ours + 2 > cpus) {
    autoPinned = true;
    calm = 0;
  } else if (autoPinned && ++calm >= kCalmSamples) {
    autoPinned = false;
  }
  return autoPinned;
}

constexpr int kHoldSwitches = 1000;
thread_local cpu_set_t sentryMask;
thread_local int sentryHeldCpu = -1;
thread_local int sentryHeldFor = 0;

// HoldSentry narrows this thread's affinity to `cpu` for kHoldSwitches round trips (as the
// ptrace addon's HoldTracer): the scheduler can still move the pair after that.
void HoldSentry(int cpu) {
  if (sentryHeldCpu == cpu) return;
  if (sentryHeldCpu < 0 && sched_getaffinity(0, sizeof sentryMask, &sentryMask) < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // SAFETY: this thread's own affinity; ReleaseSentry restores the mask read above.
  if (sched_setaffinity(0, sizeof set, &set) == 0) {
    sentryHeldCpu = cpu;
    sentryHeldFor = kHoldSwitches;
  }
}

void ReleaseSentry() {
  if (sentryHeldCpu < 0) return;
  // SAFETY: restores this thread's own affinity as it was before HoldSentry.
  sched_setaffinity(0, sizeof sentryMask, &sentryMask);
  sentryHeldCpu = -1;
}

// Place pins stub thread tid to this thread's CPU (and holds this thread there), or
// unpins it; pin[0] is the CPU it was pinned to, -1 for none (the thread's JavaScript
// state: the block is the application's to write).
void Place(int tid, int32_t* pin, bool pinned) {
  if (!pinned) {
    ReleaseSentry();
    // SAFETY: affinity of a thread of our own stub, back to the mask the process started with.
    if (pin[0] >= 0 && sched_setaffinity(tid, sizeof processMask, &processMask) == 0) pin[0] = -1;
    return;
  }
  int cpu = sched_getcpu();
  if (cpu < 0) return;
  if (cpu != pin[0]) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // SAFETY: affinity of a thread of our own stub; failure only costs speed.
    if (sched_setaffinity(tid, sizeof set, &set) == 0) pin[0] = cpu;
  }
  if (pin[0] >= 0) HoldSentry(pin[0]);
}

int64_t Average(int64_t avg, int64_t sample, int64_t bound) {
  if (sample > 4 * bound) sample = 4 * bound;
  if (avg > 4 * bound) avg = 4 * bound;
  return avg - avg / 8 + sample / 8;
}

uint64_t Rdtsc() {
  uint32_t lo, hi;
  // SAFETY: reads the time-stamp counter into two registers; no memory is touched.
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// The TSC rate, for the stub's spin bound and the stamps: two samples of (TSC,
// CLOCK_MONOTONIC) at least 10 ms apart (the first at load, the second at the first
// switch after that); until then the stub does not spin.
int64_t tscNs0 = 0;
uint64_t tsc0 = 0;
double ticksPerNs = 0;

// Debug stamps (setStamps): sums over the round trips since they were turned on, in ns.
struct Stamps {
  bool on = false;
  double count = 0;
  double handle = 0;     // sentry: return of a switch -> the next call (JavaScript: handler, Registers)
  double answer = 0;     // sentry: call -> the stub resumed (frame written, FUTEX_WAKE if it slept)
  double toStub = 0;     // RESUME set -> the stub's handler saw it (its wake-up)
  double run = 0;        // the stub saw RESUME -> its handler entered again (sigreturn, application, trap)
  double toSentry = 0;   // the stub's handler entered -> the sentry saw the event (its wake-up)
  double decode = 0;     // the sentry saw the event -> the switch returns
  double sentrySpun = 0; // round trips where the sentry spun
  double stubSpun = 0;   // round trips where the stub was told to spin
  double pinned = 0;     // round trips with the stub pinned to the sentry's CPU
};
thread_local Stamps stamps;
constexpr int64_t kPollNs = 10 * 1000 * 1000;
constexpr int64_t kKickNs = 50 * 1000 * 1000;
constexpr int64_t kBrokenNs = 5LL * 1000 * 1000 * 1000;

// Results of switchThread / awaitEvent.
enum { kSyscall = 0, kFault = 1, kInterrupted = 2, kExited = 3, kBroken = 4, kEvent = 5 };
// Access kinds written to info[2].
enum { kAccessUnknown = 0, kAccessExecute = 3 };

// The kernel's struct ucontext on x86-64 (not glibc's ucontext_t, which is larger):
// uc_flags, uc_link, uc_stack (24 bytes), then struct sigcontext, then an 8-byte mask.
constexpr size_t kUcStack = 16;
constexpr size_t kUcMcontext = 40;
constexpr size_t kUcSigmask = kUcMcontext + 256;
constexpr size_t kUcSize = kUcSigmask + 8;
constexpr size_t kSiginfoSize = 128;
// struct sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags, then
// cs/gs/fs/ss (u16 each), err, trapno, oldmask, cr2, fpstate.
enum { SC_R8, SC_R9, SC_R10, SC_R11, SC_R12, SC_R13, SC_R14, SC_R15, SC_RDI, SC_RSI, SC_RBP, SC_RBX, SC_RDX,
       SC_RAX, SC_RCX, SC_RSP, SC_RIP, SC_EFLAGS, SC_SEGS, SC_ERR, SC_TRAPNO };

constexpr uint64_t kVsyscallPage = 0xffffffffff600000ULL;
constexpr int kSysSeccomp = 1;  // si_code of a SECCOMP_RET_TRAP SIGSYS

struct Block {
  uint8_t* base;       // the sentry's mapping of the block
  uint64_t stub;       // the block's address in the stub process
  uint32_t* state() { return reinterpret_cast<uint32_t*>(base + BLK_STATE); }
  uint32_t* stubWaiting() { return reinterpret_cast<uint32_t*>(base + BLK_STUB_WAITING); }
  uint32_t* sentryWaiting() { return reinterpret_cast<uint32_t*>(base + BLK_SENTRY_WAITING); }
  uint64_t& u64(size_t off) { return *reinterpret_cast<uint64_t*>(base + off); }
  // At translates a stub address read from the block into the sentry's mapping, or
  // nullptr unless [addr, addr+len) lies inside the alternate stack.
  uint8_t* At(uint64_t addr, size_t len) {
    if (addr < stub + BLK_ALTSTACK || addr > stub + SYSTRAP_BLOCK_SIZE || len > stub + SYSTRAP_BLOCK_SIZE - addr) return nullptr;
    return base + (addr - stub);
  }
};

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

long Futex(uint32_t* word, int op, uint32_t val, const struct timespec* timeout) {
  // SAFETY: word is in the block, a shared mapping of the memory file that outlives the
  // call; FUTEX_WAIT only sleeps while *word == val, FUTEX_WAKE only wakes.
  return syscall(SYS_futex, word, op, val, timeout, nullptr, 0);
}

// WaitEvent waits until the block's state becomes EVENT, having been `from` (RESUME after
// an answer, 0 for a thread not yet born). It returns kEvent, kExited (the thread is
// gone) or kBroken (the state holds anything else, or the thread does not answer).
// spinNs bounds a first phase of spinning (sched_yield between looks; 0: none).
int WaitEvent(Block& b, uint32_t from, int pid, int tid, int64_t spinNs = 0) {
  int64_t start = NowNs();
  if (spinNs > 0) {
    for (int64_t t = start; t - start < spinNs; t = NowNs()) {
      if (__atomic_load_n(b.state(), __ATOMIC_ACQUIRE) == STATE_EVENT) return kEvent;
      // SAFETY: gives up the CPU for a moment; no arguments.
      sched_yield();
    }
  }
  bool kicked = false;
  for (;;) {
    __atomic_exchange_n(b.sentryWaiting(), 1, __ATOMIC_SEQ_CST);
    uint32_t s = __atomic_load_n(b.state(), __ATOMIC_SEQ_CST);
    if (s == from) {
      struct timespec ts = {0, kPollNs};
      Futex(b.state(), FUTEX_WAIT, from, &ts);
      s = __atomic_load_n(b.state(), __ATOMIC_ACQUIRE);
    }
    __atomic_store_n(b.sentryWaiting(), 0, __ATOMIC_RELAXED);
    if (s == STATE_EVENT) return kEvent;
    if (s != from) return kBroken;
    // SAFETY: signal 0 only checks that the stub thread still exists.
    if (syscall(SYS_tgkill, pid, tid, 0) < 0 && errno == ESRCH) return kExited;
    int64_t waited = NowNs() - start;
    if (!kicked && waited > kKickNs) {
      // SAFETY: SIGVTALRM to our own stub thread: its handler reports the end of a slice.
      syscall(SYS_tgkill, pid, tid, SIGVTALRM);
      kicked = true;
    }
    if (waited > kBrokenNs) return kBroken;
  }
}

uint8_t* Buf(const Napi::CallbackInfo& info, size_t i, size_t min) {
  auto b = info[i].As<Napi::Buffer<uint8_t>>();
  if (b.Length() < min) throw Napi::RangeError::New(info.Env(), "buffer too short");
  return b.Data();
}

Block BlockArg(const Napi::CallbackInfo& info) {
  Block b{Buf(info, 0, SYSTRAP_BLOCK_SIZE), static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value())};
  if (b.stub < SYSTRAP_BLOCKS || b.stub % SYSTRAP_BLOCK_SIZE || b.stub >= STUB_TASK_TOP) {
    throw Napi::RangeError::New(info.Env(), "not a block address");
  }
  return b;
}

// ReadEvent decodes the frame of the event the block holds into regs and info.
int ReadEvent(Block& b, uint64_t* regs, uint8_t* info) {
  // SAFETY: both addresses come from the application-writable header; At() keeps every
  // read below inside the block, and the values read are only reported, never followed.
  uint8_t* uc = b.At(b.u64(BLK_UCONTEXT), kUcSize);
  uint8_t* si = b.At(b.u64(BLK_SIGINFO), kSiginfoSize);
  if (!uc || !si) return kBroken;
  uint64_t gr[SC_TRAPNO + 1];
  memcpy(gr, uc + kUcMcontext, sizeof gr);
  regs[0] = gr[SC_R15], regs[1] = gr[SC_R14], regs[2] = gr[SC_R13], regs[3] = gr[SC_R12];
  regs[4] = gr[SC_RBP], regs[5] = gr[SC_RBX], regs[6] = gr[SC_R11], regs[7] = gr[SC_R10];
  regs[8] = gr[SC_R9], regs[9] = gr[SC_R8], regs[10] = gr[SC_RAX], regs[11] = gr[SC_RCX];
  regs[12] = gr[SC_RDX], regs[13] = gr[SC_RSI], regs[14] = gr[SC_RDI], regs[15] = ~0ULL;
  regs[16] = gr[SC_RIP], regs[17] = 0x33, regs[18] = gr[SC_EFLAGS], regs[19] = gr[SC_RSP], regs[20] = 0x2b;
  regs[21] = b.u64(BLK_FS_BASE), regs[22] = b.u64(BLK_GS_BASE);
  regs[23] = regs[24] = regs[25] = regs[26] = 0;
  int32_t signo, code;
  uint64_t addr;
  memcpy(&signo, si, 4);
  memcpy(&code, si + 8, 4);
  memcpy(&addr, si + 16, 8);
  int32_t out[4] = {signo, code, kAccessUnknown, 0};
  int kind = kInterrupted;
  if (signo <= 0 || signo > 64) return kBroken;
  if (signo == SIGSYS && code == kSysSeccomp && (addr & ~0xfffULL) != kVsyscallPage) {
    // A trapped syscall: the host rolled rax back to the number; report it as ptrace's
    // syscall-entry stop does (orig_rax the number, rax -ENOSYS).
    regs[15] = gr[SC_RAX];
    regs[10] = static_cast<uint64_t>(-ENOSYS);
    kind = kSyscall;
  } else if ((signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP ||
              signo == SIGSYS) && code > 0) {
    kind = kFault;
    bool memory = signo == SIGSEGV || signo == SIGBUS;
    if (memory && addr == gr[SC_RIP]) out[2] = kAccessExecute;
  }
  memcpy(info, out, sizeof out);
  memcpy(info + 16, &addr, 8);
  return kind;
}

// WriteAnswer stores regs into the frame; the stub returns through it.
int WriteAnswer(Block& b, const uint64_t* regs) {
  // SAFETY: as in ReadEvent, every write stays inside the block (At); what the stub then
  // loads through rt_sigreturn is checked by the host kernel like any signal frame.
  uint8_t* uc = b.At(b.u64(BLK_UCONTEXT), kUcSize);
  if (!uc) return kBroken;
  uint64_t gr[SC_EFLAGS + 1];
  gr[SC_R15] = regs[0], gr[SC_R14] = regs[1], gr[SC_R13] = regs[2], gr[SC_R12] = regs[3];
  gr[SC_RBP] = regs[4], gr[SC_RBX] = regs[5], gr[SC_R11] = regs[6], gr[SC_R10] = regs[7];
  gr[SC_R9] = regs[8], gr[SC_R8] = regs[9], gr[SC_RAX] = regs[10], gr[SC_RCX] = regs[11];
  gr[SC_RDX] = regs[12], gr[SC_RSI] = regs[13], gr[SC_RDI] = regs[14];
  gr[SC_RIP] = regs[16], gr[SC_EFLAGS] = regs[18], gr[SC_RSP] = regs[19];
  memcpy(uc + kUcMcontext, gr, sizeof gr);
  b.u64(BLK_FS_BASE) = regs[21];
  b.u64(BLK_GS_BASE) = regs[22];
  // The thread returns with no signal blocked and on its own alternate stack, whatever
  // the application may have written there.
  memset(uc + kUcSigmask, 0, 8);
  uint64_t stack[3] = {b.stub + BLK_ALTSTACK, 0, SYSTRAP_BLOCK_SIZE - BLK_ALTSTACK};
  memcpy(uc + kUcStack, stack, sizeof stack);
  return 0;
}

// Calibrate takes the second sample of the TSC rate once 10 ms have passed since the first.
void Calibrate(int64_t now) {
  if (ticksPerNs > 0 || now - tscNs0 < 10 * 1000 * 1000) return;
  ticksPerNs = static_cast<double>(Rdtsc() - tsc0) / static_cast<double>(now - tscNs0);
}

// TscNs converts a TSC difference to ns (0 before calibration).
double TscNs(uint64_t ticks) {
  return ticksPerNs > 0 ? static_cast<double>(static_cast<int64_t>(ticks)) / ticksPerNs : 0;
}

void Resume(Block& b) {
  __atomic_exchange_n(b.state(), STATE_RESUME, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(b.stubWaiting(), __ATOMIC_SEQ_CST)) Futex(b.state(), FUTEX_WAKE, 1, nullptr);
}

// switchThread(block, blockStub, regs, info, pid, tid) -> kind (see the enum), or -errno.
// The thread must be stopped at an event (its state EVENT): the answer is written, the
// thread resumed, and the next event decoded into regs and info ([signal, code, access,
// 0] as int32, then the address as u64).
Napi::Value SwitchThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Block b = BlockArg(info);
  auto* regs = reinterpret_cast<uint64_t*>(Buf(info, 2, kRegsSize));
  uint8_t* out = Buf(info, 3, kInfoSize);
  int pid = info[4].As<Napi::Number>().Int32Value(), tid = info[5].As<Napi::Number>().Int32Value();
  int32_t* pin = info[6].As<Napi::Int32Array>().Data();
  int64_t entry = NowNs();
  if (__atomic_load_n(b.state(), __ATOMIC_ACQUIRE) != STATE_EVENT) return Napi::Number::New(env, kBroken);
  if (WriteAnswer(b, regs) == kBroken) return Napi::Number::New(env, kBroken);
  Calibrate(entry);
  int64_t handle = lastReturnNs ? entry - lastReturnNs : INT64_MAX / 2;
  avgHandleNs = Average(avgHandleNs, handle, stubSpinNs);
  // The stub spins for its next answer only while the sentry has been answering quickly.
  bool pinned = Pinned(entry);
  Place(tid, pin, pinned);
  bool stubSpin = !pinned && stubSpinNs > 0 && avgHandleNs < stubSpinNs && ticksPerNs > 0;
  b.u64(BLK_STUB_SPIN) = stubSpin ? static_cast<uint64_t>(static_cast<double>(stubSpinNs) * ticksPerNs) : 0;
  uint64_t resumeTsc = Rdtsc();
  Resume(b);
  int64_t resumed = NowNs();
  bool sentrySpin = !pinned && sentrySpinNs > 0 && avgRunNs < sentrySpinNs;
  int r = WaitEvent(b, STATE_RESUME, pid, tid, sentrySpin ? sentrySpinNs : 0);
  if (sentryHeldCpu >= 0 && --sentryHeldFor <= 0) ReleaseSentry();
  int64_t seen = NowNs();
  uint64_t seenTsc = Rdtsc();
  avgRunNs = Average(avgRunNs, seen - resumed, sentrySpinNs);
  if (r != kEvent) {
    lastReturnNs = 0;
    return Napi::Number::New(env, r);
  }
  int kind = ReadEvent(b, regs, out);
  lastReturnNs = NowNs();
  if (stamps.on) {
    // The stub's stamps come from the application-writable block: debug figures only.
    uint64_t resumedTsc = b.u64(BLK_TSC_RESUMED), nextTsc = b.u64(BLK_TSC_EVENT);
    stamps.count++;
    if (handle < INT64_MAX / 2) stamps.handle += handle;
    stamps.answer += resumed - entry;
    stamps.toStub += TscNs(resumedTsc - resumeTsc);
    stamps.run += TscNs(nextTsc - resumedTsc);
    stamps.toSentry += TscNs(seenTsc - nextTsc);
    stamps.decode += lastReturnNs - seen;
    stamps.sentrySpun += sentrySpin;
    stamps.stubSpun += stubSpin;
    stamps.pinned += pinned;
  }
  return Napi::Number::New(env, kind);
}

// awaitEvent(block, blockStub, pid, tid) -> kEvent, kExited or kBroken: waits for a new
// thread's first event (its birth int3), whose frame the first switch answers.
Napi::Value AwaitEvent(const Napi::CallbackInfo& info) {
  Block b = BlockArg(info);
  int pid = info[2].As<Napi::Number>().Int32Value(), tid = info[3].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), WaitEvent(b, 0, pid, tid));
}

// endThread(block) -> 0: the stub thread waiting at an event exits (state EXIT).
Napi::Value EndThread(const Napi::CallbackInfo& info) {
  uint8_t* base = Buf(info, 0, SYSTRAP_BLOCK_SIZE);
  auto* state = reinterpret_cast<uint32_t*>(base + BLK_STATE);
  __atomic_exchange_n(state, STATE_EXIT, __ATOMIC_SEQ_CST);
  Futex(state, FUTEX_WAKE, 1, nullptr);
  return Napi::Number::New(info.Env(), 0);
}

// setSpin(sentryNs, stubNs) -> 0: the bounds of the two sides' spinning (0: off).
Napi::Value SetSpin(const Napi::CallbackInfo& info) {
  int64_t sentry = info[0].As<Napi::Number>().Int64Value(), stub = info[1].As<Napi::Number>().Int64Value();
  if (sentry < 0 || stub < 0 || sentry > kKickNs || stub > kKickNs) throw Napi::RangeError::New(info.Env(), "spin bound out of range");
  sentrySpinNs = sentry;
  stubSpinNs = stub;
  return Napi::Number::New(info.Env(), 0);
}

// setPlacement(mode) -> 0: 0 auto (the default), 1 spread, 2 pinned (see Placement).
Napi::Value SetPlacement(const Napi::CallbackInfo& info) {
  int mode = info[0].As<Napi::Number>().Int32Value();
  if (mode < kAuto || mode > kPinned) throw Napi::RangeError::New(info.Env(), "placement out of range");
  placement = static_cast<Placement>(mode);
  autoPinned = false;
  calm = 0;
  lastSampleNs = 0;
  return Napi::Number::New(info.Env(), 0);
}

// setStamps(on) -> 0: starts (and zeroes) or stops this thread's debug stamps.
Napi::Value SetStamps(const Napi::CallbackInfo& info) {
  stamps = Stamps{};
  stamps.on = info[0].As<Napi::Boolean>().Value();
  return Napi::Number::New(info.Env(), 0);
}

// stamps() -> this thread's stamp sums: {count, handle, answer, toStub, run, toSentry,
// decode, sentrySpun, stubSpun} (ns, counts).
Napi::Value GetStamps(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o["count"] = stamps.count;
  o["handle"] = stamps.handle;
  o["answer"] = stamps.answer;
  o["toStub"] = stamps.toStub;
  o["run"] = stamps.run;
  o["toSentry"] = stamps.toSentry;
  o["decode"] = stamps.decode;
  o["sentrySpun"] = stamps.sentrySpun;
  o["stubSpun"] = stamps.stubSpun;
  o["pinned"] = stamps.pinned;
  return o;
}

// fsgsbase() -> whether user mode may use rdfsbase/wrfsbase (else the stub loads fs/gs bases with arch_prctl).
Napi::Value FsGsBase(const Napi::CallbackInfo& info) {
  constexpr unsigned long kHwcap2FsGsBase = 1 << 1;
  return Napi::Boolean::New(info.Env(), (getauxval(AT_HWCAP2) & kHwcap2FsGsBase) != 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["switchThread"] = Napi::Function::New(env, SwitchThread, "switchThread");
  exports["awaitEvent"] = Napi::Function::New(env, AwaitEvent, "awaitEvent");
  exports["endThread"] = Napi::Function::New(env, EndThread, "endThread");
  exports["setSpin"] = Napi::Function::New(env, SetSpin, "setSpin");
  exports["setPlacement"] = Napi::Function::New(env, SetPlacement, "setPlacement");
  exports["setStamps"] = Napi::Function::New(env, SetStamps, "setStamps");
  exports["stamps"] = Napi::Function::New(env, GetStamps, "stamps");
  // SAFETY: a read-only procfs file, kept for the process's life (Pinned's samples).
  loadavgFd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (sched_getaffinity(0, sizeof processMask, &processMask) == 0) {
    cpus = CPU_COUNT(&processMask);
  } else {
    CPU_ZERO(&processMask);
    for (int i = 0; i < CPU_SETSIZE; i++) CPU_SET(i, &processMask);
  }
  tscNs0 = NowNs();
  tsc0 = Rdtsc();
  exports["fsgsbase"] = Napi::Function::New(env, FsGsBase, "fsgsbase");
  exports["regsSize"] = Napi::Number::New(env, kRegsSize);
  exports["blockSize"] = Napi::Number::New(env, SYSTRAP_BLOCK_SIZE);
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_systrap, Init)
