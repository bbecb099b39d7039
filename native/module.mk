# native/module.mk builds the node-gyp addons and the static stubs (ptrace, systrap).

NATIVE_ADDON := native/build/Release/tvisor_ptrace.node
NATIVE_NET_ADDON := native/build/Release/tvisor_net.node
NATIVE_STUB := build/native/tvisor-stub
NATIVE_SYSTRAP_ADDON := native/build/Release/tvisor_systrap.node
NATIVE_FS_ADDON := native/build/Release/tvisor_fs.node
NATIVE_HEAP_ADDON := native/build/Release/tvisor_heap.node
NATIVE_SYSTRAP_STUB := build/native/tvisor-systrap-stub
NATIVE_STUB_FLAGS := -nostdlib -static -no-pie -Wa,--noexecstack -Wl,-T,native/stub/stub.ld \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096

BUILD_TARGETS += $(NATIVE_ADDON) $(NATIVE_NET_ADDON) $(NATIVE_FS_ADDON) $(NATIVE_HEAP_ADDON) $(NATIVE_STUB) $(NATIVE_SYSTRAP_ADDON) $(NATIVE_SYSTRAP_STUB)

$(NATIVE_ADDON) $(NATIVE_NET_ADDON) $(NATIVE_SYSTRAP_ADDON) $(NATIVE_FS_ADDON) $(NATIVE_HEAP_ADDON): native/binding.gyp native/ptrace/addon.cc native/net/reactor.cc native/systrap/addon.cc native/fs/dirstat.cc native/heap/heap.cc native/stub/layout.h native/systrap/layout.h node_modules/.package-lock.json
	$(NODE_GYP) --directory=native configure build
	@touch $@

$(NATIVE_STUB): native/stub/stub.S native/stub/layout.h native/stub/prologue.h native/stub/bpf.h native/stub/stub.ld
	@mkdir -p $(@D)
	$(CC) $(NATIVE_STUB_FLAGS) -o $@ native/stub/stub.S

$(NATIVE_SYSTRAP_STUB): native/systrap/stub.S native/systrap/layout.h native/stub/layout.h native/stub/prologue.h native/stub/bpf.h native/stub/stub.ld
	@mkdir -p $(@D)
	$(CC) $(NATIVE_STUB_FLAGS) -o $@ native/systrap/stub.S

# The waiter of a pod's container (native/waiter/waiter.c): static, no libc.
NATIVE_WAITER := build/native/tvisor-waiter
BUILD_TARGETS += $(NATIVE_WAITER)

$(NATIVE_WAITER): native/waiter/waiter.c
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -no-pie -O2 -fno-stack-protector -fno-asynchronous-unwind-tables -Wall -Werror -Wl,--build-id=none -o $@ native/waiter/waiter.c
