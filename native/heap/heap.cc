// heap.cc is tvisor's heap addon: what an idle sandbox process needs to give memory back
// (native/idle-gc.ts) that Node 20 offers no JavaScript for.
//
// lowMemory is v8::Isolate::LowMemoryNotification(): full collections with V8's
// memory-reducing flags until one frees nothing more; unlike a plain full GC (the `gc`
// of --expose-gc), it also shrinks the young generation to its initial size and gives
// back its free semispace, and lets the collections flush the bytecode of functions not
// run since. threadCpuMs is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), by
// which a process whose event loop never looks idle (the gofer's, which waits in
// poll(2) from JavaScript) measures its idleness.
//
// Both run on the calling thread, which must be the isolate's (Node's main thread).
#include <napi.h>
#include <v8.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <string>

namespace {

Napi::Value LowMemory(const Napi::CallbackInfo& info) {
  // SAFETY: called from JavaScript, so on the isolate's own thread and inside it, which
  // is what v8::Isolate::GetCurrent() and LowMemoryNotification() require.
  v8::Isolate::GetCurrent()->LowMemoryNotification();
  return info.Env().Undefined();
}

Napi::Value ThreadCpuMs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  // SAFETY: ts is a local timespec; CLOCK_THREAD_CPUTIME_ID is on the confined
  // processes' allowlists (native/confine/host-syscalls.ts).
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
    throw Napi::Error::New(info.Env(), std::string("threadCpuMs: clock_gettime: ") + strerror(errno));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lowMemory", Napi::Function::New(env, LowMemory));
  exports.Set("threadCpuMs", Napi::Function::New(env, ThreadCpuMs));
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_heap, Init)
