# binding.gyp builds tvisor's native addons (built by `make`, see native/module.mk): the
# ptrace platform, the sentry's host-I/O reactor, the systrap platform, the KVM platform and the
# gofer's directory listing (fs/dirstat.cc), with one set of
# hardening and warning flags.
{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_FORTIFY_SOURCE=2", "_GNU_SOURCE"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags": ["-Wall", "-Wextra", "-Werror", "-O2", "-fstack-protector-strong", "-fstack-clash-protection", "-fcf-protection=full", "-fPIC"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack", "-Wl,--as-needed"]
  },
  "targets": [
    { "target_name": "tvisor_ptrace", "sources": ["ptrace/addon.cc"] },
    { "target_name": "tvisor_net", "sources": ["net/reactor.cc"] },
    { "target_name": "tvisor_systrap", "sources": ["systrap/addon.cc"] },
    { "target_name": "tvisor_kvm", "sources": ["kvm/addon.cc", "kvm/vm.c"] },
    { "target_name": "tvisor_fs", "sources": ["fs/dirstat.cc"] },
    { "target_name": "tvisor_heap", "sources": ["heap/heap.cc"] }
  ]
}
