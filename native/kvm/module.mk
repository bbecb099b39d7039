# native/kvm/module.mk builds the KVM platform's self-check and raw exit loop (probe) and
# makes the node-gyp addons (native/module.mk) depend on the KVM sources too.

NATIVE_KVM_PROBE := build/kvm/probe
NATIVE_KVM_SOURCES := native/kvm/vm.c native/kvm/vm.h

BUILD_TARGETS += $(NATIVE_KVM_PROBE)

$(NATIVE_KVM_PROBE): native/kvm/probe.c $(NATIVE_KVM_SOURCES)
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ native/kvm/probe.c native/kvm/vm.c -lpthread

NATIVE_KVM_ADDON := native/build/Release/tvisor_kvm.node
BUILD_TARGETS += $(NATIVE_KVM_ADDON)

# node-gyp builds every addon of binding.gyp in one run (native/module.mk's rule).
$(NATIVE_ADDON): native/kvm/addon.cc $(NATIVE_KVM_SOURCES)
$(NATIVE_KVM_ADDON): $(NATIVE_ADDON)
	@test -f $@
