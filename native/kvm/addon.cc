// addon.cc: tvisor_kvm.node, the KVM platform's native half: thin synchronous wrappers of
// vm.c (the machine, page tables, vCPU switch). Pointers to the VM and vCPUs travel as
// BigInt handles so that worker threads can use a VM the main thread opened (one process,
// one VM); platform/kvm keeps them valid (nothing is used after its release).
#include <napi.h>

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm.h"

namespace {

template <typename T>
T *handle(const Napi::Value &v) {
  bool lossless = false;
  uint64_t p = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless || p == 0) throw Napi::TypeError::New(v.Env(), "kvm: bad handle");
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

uint64_t u64(const Napi::Value &v) {
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0)) throw Napi::RangeError::New(v.Env(), "kvm: not an unsigned integer");
  return static_cast<uint64_t>(d);
}

// open(dev, memfd, memSize) -> handle, after the self-check (kvm_vm_selfcheck) passed; throws Error(why).
Napi::Value Open(const Napi::CallbackInfo &info) {
  std::string dev = info[0].As<Napi::String>();
  // SAFETY: the memfd is the caller's memory file, mapped MAP_SHARED for the VM's lifetime.
  kvm_vm *vm = kvm_vm_open(dev.c_str(), info[1].As<Napi::Number>().Int32Value(), u64(info[2]));
  if (!vm) throw Napi::Error::New(info.Env(), kvm_vm_error());
  if (kvm_vm_selfcheck(vm) < 0) {
    std::string why = kvm_vm_error();
    kvm_vm_close(vm);
    throw Napi::Error::New(info.Env(), why);
  }
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(vm)));
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  kvm_vm_close(handle<kvm_vm>(info[0]));
  return info.Env().Undefined();
}

Napi::Value XsaveSize(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), handle<kvm_vm>(info[0])->xsave_size);
}

Napi::Value AsNew(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(kvm_as_new(handle<kvm_vm>(info[0]))));
}

Napi::Value AsFree(const Napi::CallbackInfo &info) {
  kvm_as_free(handle<kvm_vm>(info[0]), u64(info[1]));
  return info.Env().Undefined();
}

// asMap(vm, cr3, va, offset, length, prot) -> 0 or -errno.
Napi::Value AsMap(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), kvm_as_map(handle<kvm_vm>(info[0]), u64(info[1]), u64(info[2]), u64(info[3]), u64(info[4]), info[5].As<Napi::Number>().Int32Value()));
}

Napi::Value AsUnmap(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), kvm_as_unmap(handle<kvm_vm>(info[0]), u64(info[1]), u64(info[2]), u64(info[3])));
}

Napi::Value AsProtect(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), kvm_as_protect(handle<kvm_vm>(info[0]), u64(info[1]), u64(info[2]), u64(info[3]), info[4].As<Napi::Number>().Int32Value()));
}

// vcpuNew(vm, flag: Int32Array over a SharedArrayBuffer, index) -> handle.
Napi::Value VcpuNew(const Napi::CallbackInfo &info) {
  kvm_vm *vm = handle<kvm_vm>(info[0]);
  Napi::Int32Array flag = info[1].As<Napi::Int32Array>();
  size_t index = info[2].As<Napi::Number>().Uint32Value();
  if (index >= flag.ElementLength()) throw Napi::RangeError::New(info.Env(), "kvm: flag index out of range");
  kvm_vcpu *c = kvm_vcpu_new(vm);
  if (!c) throw Napi::Error::New(info.Env(), kvm_vm_error());
  // SAFETY: the SharedArrayBuffer outlives the vCPU (the context holds both, frees the vCPU first).
  c->interrupt_flag = reinterpret_cast<volatile int *>(flag.Data() + index);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(c)));
}

Napi::Value VcpuFree(const Napi::CallbackInfo &info) {
  kvm_vcpu_free(handle<kvm_vcpu>(info[0]));
  return info.Env().Undefined();
}

// switchVcpu(vcpu, cr3, regs: Buffer(user_regs_struct), event: Buffer(40)) -> kind.
Napi::Value Switch(const Napi::CallbackInfo &info) {
  kvm_vcpu *c = handle<kvm_vcpu>(info[0]);
  uint64_t cr3 = u64(info[1]);
  Napi::Buffer<uint8_t> regs = info[2].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> ev = info[3].As<Napi::Buffer<uint8_t>>();
  if (regs.Length() < sizeof(kvm_user_regs) || ev.Length() < sizeof(kvm_event)) throw Napi::RangeError::New(info.Env(), "kvm: buffers too small");
  int k = kvm_vcpu_switch(c, cr3, 0, reinterpret_cast<kvm_user_regs *>(regs.Data()), reinterpret_cast<kvm_event *>(ev.Data()));
  return Napi::Number::New(info.Env(), k);
}

Napi::Value VcpuCpuNs(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(handle<kvm_vcpu>(info[0])->cpu_ns));
}

Napi::Value GetXsave(const Napi::CallbackInfo &info) {
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  return Napi::Number::New(info.Env(), kvm_vcpu_get_xsave(handle<kvm_vcpu>(info[0]), b.Data(), b.Length()));
}

Napi::Value SetXsave(const Napi::CallbackInfo &info) {
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  return Napi::Number::New(info.Env(), kvm_vcpu_set_xsave(handle<kvm_vcpu>(info[0]), b.Data(), b.Length()));
}

Napi::Value InitXsave(const Napi::CallbackInfo &info) {
  Napi::Buffer<uint8_t> b = info[0].As<Napi::Buffer<uint8_t>>();
  if (b.Length() < 576) throw Napi::RangeError::New(info.Env(), "kvm: XSAVE image too small");
  kvm_init_xsave(b.Data(), b.Length());
  return info.Env().Undefined();
}

Napi::Value ThreadSignals(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), kvm_thread_signals());
}

Napi::Value ThreadSignalsDone(const Napi::CallbackInfo &info) {
  kvm_thread_signals_done();
  return info.Env().Undefined();
}

Napi::Value Gettid(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

Napi::Value LastError(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), kvm_vm_error());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("xsaveSize", Napi::Function::New(env, XsaveSize));
  exports.Set("asNew", Napi::Function::New(env, AsNew));
  exports.Set("asFree", Napi::Function::New(env, AsFree));
  exports.Set("asMap", Napi::Function::New(env, AsMap));
  exports.Set("asUnmap", Napi::Function::New(env, AsUnmap));
  exports.Set("asProtect", Napi::Function::New(env, AsProtect));
  exports.Set("vcpuNew", Napi::Function::New(env, VcpuNew));
  exports.Set("vcpuFree", Napi::Function::New(env, VcpuFree));
  exports.Set("switchVcpu", Napi::Function::New(env, Switch));
  exports.Set("vcpuCpuNs", Napi::Function::New(env, VcpuCpuNs));
  exports.Set("getXsave", Napi::Function::New(env, GetXsave));
  exports.Set("setXsave", Napi::Function::New(env, SetXsave));
  exports.Set("initXsave", Napi::Function::New(env, InitXsave));
  exports.Set("threadSignals", Napi::Function::New(env, ThreadSignals));
  exports.Set("threadSignalsDone", Napi::Function::New(env, ThreadSignalsDone));
  exports.Set("gettid", Napi::Function::New(env, Gettid));
  exports.Set("lastError", Napi::Function::New(env, LastError));
  exports.Set("regsSize", Napi::Number::New(env, sizeof(kvm_user_regs)));
  exports.Set("eventSize", Napi::Number::New(env, sizeof(kvm_event)));
  return exports;
}

}  // namespace

NODE_API_MODULE(tvisor_kvm, Init)
