# spec-tests/kvm-vm/module.mk: the KVM tests' harness (see scripts/kvm-vm/README.md).
#
#   make kvm-vm     the QEMU TCG test VM in build/kvm-vm (Debian's kernel and an initramfs
#                   made here; cached, rebuilt only when its inputs change)
#   make test-kvm   the KVM tests: natively where /dev/kvm runs a long-mode guest's user
#                   code (the exit loop's --check), else in the VM; TVISOR_KVM_FORCE_VM=1
#                   takes the VM route anyway. Then the VM runner's own tests.
#
# build/platform/bench/kvm-exit-loop (platform/bench/kvm-exit-loop.c) is the C KVM_RUN
# exit loop: the KVM reference figure and the /dev/kvm probe.

KVM_EXIT_LOOP := build/platform/bench/kvm-exit-loop
KVM_VM_DIR := build/kvm-vm

BUILD_TARGETS += $(KVM_EXIT_LOOP)

$(KVM_EXIT_LOOP): platform/bench/kvm-exit-loop.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

.PHONY: kvm-vm test-kvm
kvm-vm:
	scripts/kvm-vm/build.sh $(KVM_VM_DIR)

test-kvm: build
	scripts/kvm-vm/test-kvm.sh
