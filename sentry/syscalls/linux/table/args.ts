/**
 * args describes how strace-style formatting prints each argument of a syscall.
 *
 * The table in syscalls.ts writes a signature as a compact string, one word per argument
 * register in order (rdi, rsi, rdx, r10, r8, r9), optionally followed by `-> kind` for
 * the return value:
 *
 *   'dirfd path flags_open mode'            openat
 *   'fd buf_out:2 size'                     read: the buffer's length is argument 2
 *   'ptr size prot flags_mmap fd hex -> ptr' mmap
 *
 * `parseSignature` turns it into ArgSpec objects once, at module load; a typo in a kind
 * name throws there (and in the table test), not at formatting time.
 */

/** ARG_KINDS lists every argument kind the formatter knows. */
export const ARG_KINDS = [
  'int', // signed 32-bit decimal (C int)
  'long', // signed 64-bit decimal
  'uint', // unsigned decimal
  'hex', // 0x...
  'size', // unsigned decimal (size_t)
  'off', // signed 64-bit decimal (off_t, loff_t)
  'ptr', // pointer: NULL or 0x...
  'struct_ptr', // pointer to a structure the formatter does not decode
  'fd', // file descriptor (signed int)
  'dirfd', // file descriptor or AT_FDCWD
  'path', // C string pointer (a path)
  'str', // C string pointer (a name, not a path)
  'buf_in', // pointer to bytes the call reads; length in argument `len`
  'buf_out', // pointer to bytes the call writes; printed after the call, length = return value
  'argv', // char ** (NULL-terminated array of strings)
  'envp', // char ** printed as a count, as strace does
  'flags_open', // O_* flags with the access mode (O_RDONLY...)
  'flags_fd', // O_CLOEXEC/O_NONBLOCK-style flags, 0 when none (pipe2, dup3...)
  'mode', // octal file mode
  'access_mode', // F_OK or R_OK|W_OK|X_OK
  'at_flags', // AT_* flags
  'prot', // PROT_* bits
  'flags_mmap', // MAP_* flags
  'flags_clone', // CLONE_* flags (low byte: exit signal)
  'flags_ns', // CLONE_NEW* flags (unshare, setns)
  'signal', // signal number
  'sigset_ptr', // pointer to a 64-bit signal set
  'sighow', // SIG_BLOCK / SIG_UNBLOCK / SIG_SETMASK
  'clockid', // CLOCK_*
  'whence', // SEEK_*
  'fcntl_cmd', // F_*
  'futex_op', // FUTEX_* operation
  'skip', // register used by the ABI but not printed (preadv's pos_h)
] as const;

/** ArgKind is one way of printing an argument. */
export type ArgKind = (typeof ARG_KINDS)[number];

/** RET_KINDS lists how a successful return value prints. */
export const RET_KINDS = ['int', 'hex', 'ptr', 'mode', 'noreturn'] as const;

/** RetKind is one way of printing a return value. */
export type RetKind = (typeof RET_KINDS)[number];

/** ArgSpec is one argument: its kind and, for buf_in/buf_out, the index of its length. */
export interface ArgSpec {
  readonly kind: ArgKind;
  /** len is the index of the argument holding the buffer's length (buf_in, buf_out). */
  readonly len?: number;
}

/** Signature is a parsed signature string. */
export interface Signature {
  readonly args: readonly ArgSpec[];
  readonly ret: RetKind;
}

const argKinds = new Set<string>(ARG_KINDS);
const retKinds = new Set<string>(RET_KINDS);

/** parseSignature parses a compact signature string; throws on an unknown kind. */
export function parseSignature(sig: string): Signature {
  const [argPart, retPart] = sig.split('->').map((s) => s.trim());
  const ret = (retPart ?? 'int') as RetKind;
  if (!retKinds.has(ret)) throw new Error(`signature "${sig}": unknown return kind "${ret}"`);
  const words = argPart === '' ? [] : argPart.split(/\s+/);
  if (words.length > 6) throw new Error(`signature "${sig}": more than 6 arguments`);
  const args = words.map((w): ArgSpec => {
    const [kind, lenText] = w.split(':');
    if (!argKinds.has(kind)) throw new Error(`signature "${sig}": unknown argument kind "${kind}"`);
    if ((kind === 'buf_in' || kind === 'buf_out') !== (lenText !== undefined)) {
      throw new Error(`signature "${sig}": "${w}": buf_in/buf_out need ":N" (and only they take it)`);
    }
    if (lenText === undefined) return { kind: kind as ArgKind };
    const len = Number(lenText);
    if (!Number.isInteger(len) || len < 0 || len >= words.length) throw new Error(`signature "${sig}": "${w}": bad length index`);
    return { kind: kind as ArgKind, len };
  });
  return { args, ret };
}
