/**
 * table is the x86-64 Linux syscall table as data (numbers, names, argument formats) and
 * the strace-style formatter built on it. The sentry's dispatch table keys its handlers
 * and support levels by these numbers.
 */
export { ARG_KINDS, RET_KINDS, parseSignature, type ArgKind, type ArgSpec, type RetKind, type Signature } from './args';
export { MAX_SYSCALL, SYSCALLS, syscallByName, syscallByNumber, syscallName, type SyscallInfo } from './syscalls';
export { STRING_LIMIT, formatResult, formatSyscall, quote, type FormatMemory } from './format';
export * as decoders from './decoders';
