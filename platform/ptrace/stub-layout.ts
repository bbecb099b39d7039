/**
 * stub-layout mirrors native/stub/layout.h: where the stub lives in every stub process.
 * The application may map anything in [MIN_USER_ADDRESS, STUB_BASE).
 */

/** STUB_BASE is the stub's fixed address; everything below it belongs to the application. */
export const STUB_BASE = 0x7fffff000000;
/** STUB_SIZE is the length of the stub's own region, mapped in every stub process. */
export const STUB_SIZE = 0x10000;
/** STUB_MEMFD is the memory file's descriptor number inside every stub. */
export const STUB_MEMFD = 3;
/** MIN_USER_ADDRESS is the lowest mappable address (the host's default vm.mmap_min_addr). */
export const MIN_USER_ADDRESS = 0x10000;
/** INTERRUPT_SIGNAL is the signal Context.interrupt sends to a stub thread (SIGUSR2). */
export const INTERRUPT_SIGNAL = 12;
