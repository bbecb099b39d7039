# spec-tests/kvm-vm/module.mk: the KVM tests' harness (see scripts/kvm-vm/README.md).
#
#   make kvm-vm     the QEMU TCG test VM in build/kvm-vm (Debian's kernel and an initramfs
#                   made here; cached, rebuilt only when its inputs change)

KVM_VM_DIR := build/kvm-vm

.PHONY: kvm-vm
kvm-vm:
	scripts/kvm-vm/build.sh $(KVM_VM_DIR)
