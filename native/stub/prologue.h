/*
 * prologue.h is the start of both stubs (native/stub/stub.S for ptrace,
 * native/systrap/stub.S for systrap), before each installs its own seccomp filter and
 * signal handling: unmap everything but the stub (below it: the executable's leftovers;
 * above it: the stack, vdso and vvar), map the batch page, name the process, set no_new_privs, and arm
 * ITIMER_VIRTUAL at `slice` (10 ms of user time: the SIGVTALRM that gives the sentry the
 * CPU back from a task that loops without syscalls). Each failure jumps to `fail`.
 * The including file defines STUB_BASE, STUB_SIZE, STUB_TASK_TOP, the SYS_* numbers
 * and the `name`, `slice` and `fail` symbols.
 */
.macro STUB_PROLOGUE
	/* munmap(0, STUB_BASE): everything below the stub. */
	mov $SYS_munmap, %eax
	xor %edi, %edi
	movabs $STUB_BASE, %rsi
	syscall
	test %rax, %rax
	jnz fail
	/* munmap(STUB_BASE+STUB_SIZE, top - that): the stack, vdso, vvar. */
	mov $SYS_munmap, %eax
	movabs $(STUB_BASE + STUB_SIZE), %rdi
	movabs $(STUB_TASK_TOP - STUB_BASE - STUB_SIZE), %rsi
	syscall
	test %rax, %rax
	jnz fail
	/* The batch page (layout.h): the memory-file page at offset %r15, read-only. */
	mov $SYS_mmap, %eax
	movabs $STUB_BATCH_PAGE, %rdi
	mov $0x1000, %esi
	mov $1, %edx              /* PROT_READ */
	mov $0x11, %r10d          /* MAP_SHARED | MAP_FIXED */
	mov $STUB_MEMFD, %r8d
	mov %r15, %r9
	syscall
	cmp %rdi, %rax
	jne fail
	/* Its name: started from a descriptor (execveat), it would be the descriptor's number. */
	mov $SYS_prctl, %eax
	mov $PR_SET_NAME, %edi
	lea name(%rip), %rsi
	syscall
	test %rax, %rax
	jnz fail
	mov $SYS_prctl, %eax
	mov $PR_SET_NO_NEW_PRIVS, %edi
	mov $1, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	syscall
	test %rax, %rax
	jnz fail
	/* setitimer(ITIMER_VIRTUAL, slice): the tracer (ptrace) or the stub's handler
	 * (systrap) turns each SIGVTALRM into the end of a time slice; the application never
	 * sees it. */
	mov $SYS_setitimer, %eax
	mov $ITIMER_VIRTUAL, %edi
	lea slice(%rip), %rsi
	xor %edx, %edx
	syscall
	test %rax, %rax
	jnz fail
.endm

/* STUB_INJECT_GADGET is the inject gadget both stubs place at STUB_OFF_INJECT: one host
 * call (the tracer's registers), or, with %r13 = count and %r12 = the first entry, a batch
 * of calls from the batch page, stopping at the first error with it in rax; the int3 at
 * STUB_OFF_INJECT_DONE is the stop after either. */
.macro STUB_INJECT_GADGET
	.org STUB_OFF_INJECT, 0xcc
inject:
	syscall
	test %r13, %r13
	jnz batch_next
	.org STUB_OFF_INJECT_DONE, 0xcc
inject_done:
	int3
	hlt
	/* The batch loop (layout.h's batch page): registers only, no stack. A result in
	 * [-4095, -1] is an error: stop there with it in rax. */
batch_next:
	cmp $-4095, %rax
	jae inject_done
	dec %r13
	jz inject_done
	add $STUB_BATCH_ENTRY_SIZE, %r12
	jmp batch
	.org STUB_OFF_BATCH, 0xcc
batch:
	mov (%r12), %rax
	mov 8(%r12), %rdi
	mov 16(%r12), %rsi
	mov 24(%r12), %rdx
	mov 32(%r12), %r10
	mov 40(%r12), %r8
	mov 48(%r12), %r9
	jmp inject
.endm
