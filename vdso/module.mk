# vdso/module.mk builds the vDSO image (vdso.c, a freestanding position-independent
# shared object) that the sentry bundle embeds (scripts/build.mjs) and maps into every
# process at exec (sentry/loader/vdso.ts).

VDSO_IMAGE := build/vdso/vdso.so
VDSO_CFLAGS := -O2 -Wall -Wextra -Werror -fPIC -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -fno-common -mno-red-zone -nostdlib -shared \
	-Wl,-T,vdso/vdso.lds -Wl,--version-script=vdso/vdso.map -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both \
	-Wl,--build-id=none -Wl,--strip-all -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-undefined -Wl,-Bsymbolic

BUILD_TARGETS += $(VDSO_IMAGE)

$(VDSO_IMAGE): vdso/vdso.c vdso/vvar.h vdso/vdso.lds vdso/vdso.map vdso/check-image.sh vdso/module.mk
	@mkdir -p $(@D)
	$(CC) $(VDSO_CFLAGS) -o $@.tmp vdso/vdso.c
	vdso/check-image.sh $@.tmp
	mv $@.tmp $@

# The bundles embed the image.
dist/tvisor.js: $(VDSO_IMAGE)
