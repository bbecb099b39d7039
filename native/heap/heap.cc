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
// mapSource and mapBytes give bin/tvisor (scripts/tvisor-launcher.js) a bundle's source
// and its code cache without reading them into fresh memory: each is a private read-only
// mapping of the file, so its pages come from the host's page cache (shared by every
// sandbox process that loads the same bundle) and are faulted in 64 KiB at a time as V8
// reads them, instead of being read into a new buffer (a fault per 4 KiB page here) and,
// for the source, copied again onto V8's heap. The source becomes an external one-byte
// string (Node-API's node_api_create_external_string_latin1, looked up at run time: a
// Node without it gets the launcher's plain read), with the CommonJS wrapper's text
// written around the file's bytes in the same mapping. The files are only ever replaced
// by rename (scripts/build.mjs, the launcher's cache writes), never rewritten in place,
// so a mapping keeps the bytes it was made of.
//
// lowMemory and threadCpuMs run on the calling thread, which must be the isolate's (Node's
// main thread), as every call of this addon does.
#include <napi.h>
#include <v8.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

// Region is one mapping made by MapFile, unmapped when V8 lets go of what it backs.
struct Region {
  void* addr;
  size_t length;
};

void Unmap(napi_env /*env*/, void* /*data*/, void* hint) {
  Region* r = static_cast<Region*>(hint);
  // SAFETY: r came from MapFile, and V8 calls this once, when nothing reads the bytes any more.
  munmap(r->addr, r->length);
  delete r;
}

// MapFile maps the file at `path` privately, `head` bytes of room before its first byte
// and `tail` after its last, all readable and writable until the caller seals it
// (mprotect). It returns the region and, in `at`, the address of the file's first byte;
// it throws a JavaScript error naming the path otherwise.
Region* MapFile(Napi::Env env, const std::string& path, size_t head, size_t tail, char** at, size_t* size) {
  // SAFETY: a plain open of a path string; the descriptor is closed below on every path.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(env, path + ": " + strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    throw Napi::Error::New(env, path + ": " + strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    throw Napi::Error::New(env, path + ": not a regular file");
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t n = static_cast<size_t>(st.st_size);
  const size_t before = (head + page - 1) / page * page;
  const size_t filePages = (n + page - 1) / page * page;
  const size_t length = before + (n + tail + page - 1) / page * page;
  // SAFETY: a fresh anonymous mapping chosen by the kernel, then the file mapped over part
  // of it (MAP_FIXED inside the region just made, never past the file's last page: no
  // access can fault beyond its end).
  void* region = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    int e = errno;
    close(fd);
    throw Napi::Error::New(env, path + ": mmap: " + strerror(e));
  }
  char* base = static_cast<char*>(region) + before;
  if (n > 0 && mmap(base, filePages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
    int e = errno;
    munmap(region, length);
    close(fd);
    throw Napi::Error::New(env, path + ": mmap: " + strerror(e));
  }
  close(fd);
  *at = base;
  *size = n;
  return new Region{region, length};
}

using ExternalLatin1 = napi_status (*)(napi_env, char*, size_t, napi_finalize, void*, napi_value*, bool*);

// MapSource(path, prefix, suffix) is the string prefix + the file's bytes + suffix, external
// (over a read-only mapping), or undefined when this Node cannot make one. The file must be
// Latin-1 (the bundles are ASCII: scripts/build.mjs).
Napi::Value MapSource(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // SAFETY: dlsym of a function Node exports from v20.12 on; RTLD_DEFAULT searches the
  // node executable, which has it or not (then the caller reads the file as before).
  static const ExternalLatin1 make = reinterpret_cast<ExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  if (!make) return env.Undefined();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const std::string prefix = info[1].As<Napi::String>().Utf8Value();
  const std::string suffix = info[2].As<Napi::String>().Utf8Value();
  char* at;
  size_t n;
  Region* r = MapFile(env, path, prefix.size(), suffix.size(), &at, &n);
  // SAFETY: the region holds prefix.size() bytes before `at` and suffix.size() after at + n
  // (MapFile's head and tail); a write to the file's last page copies that page only.
  memcpy(at - prefix.size(), prefix.data(), prefix.size());
  memcpy(at + n, suffix.data(), suffix.size());
  mprotect(r->addr, r->length, PROT_READ);
  napi_value out;
  bool copied = false;
  napi_status status = make(env, at - prefix.size(), prefix.size() + n + suffix.size(), Unmap, r, &out, &copied);
  if (status != napi_ok) {
    Unmap(env, nullptr, r);
    throw Napi::Error::New(env, path + ": cannot make an external string");
  }
  // copied: V8 took a copy and has already called Unmap.
  return Napi::Value(env, out);
}

// MapBytes(path) is a Buffer over a read-only mapping of the file (a code cache for V8 to read).
Napi::Value MapBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  char* at;
  size_t n;
  Region* r = MapFile(env, path, 0, 0, &at, &n);
  mprotect(r->addr, r->length, PROT_READ);
  napi_value out;
  if (napi_create_external_buffer(env, n, at, Unmap, r, &out) != napi_ok) {
    Unmap(env, nullptr, r);
    throw Napi::Error::New(env, path + ": cannot make an external buffer");
  }
  return Napi::Value(env, out);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lowMemory", Napi::Function::New(env, LowMemory));
  exports.Set("threadCpuMs", Napi::Function::New(env, ThreadCpuMs));
  exports.Set("mapSource", Napi::Function::New(env, MapSource));
  exports.Set("mapBytes", Napi::Function::New(env, MapBytes));
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_heap, Init)
