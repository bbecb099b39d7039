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
