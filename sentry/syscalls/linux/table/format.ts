/**
 * format prints a syscall and its result the way strace does:
 *
 *   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
 *   read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
 *   openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
 *
 * Application memory is read through a small interface so that the formatter works on
 * any task (and in tests on a fake); memory that cannot be read prints as its address.
 * Strings and buffers are cut at STRING_LIMIT bytes with `...` after the quote (strace's
 * default -s 32); paths are printed whole up to PATH_MAX.
 */
import { errnoText } from '../../../../native/libc';
import type { ArgSpec } from './args';
import * as d from './decoders';
import { syscallByNumber } from './syscalls';

/** FormatMemory reads the traced task's memory; both return null when the range is unreadable. */
export interface FormatMemory {
  readCString(addr: bigint, max: number): string | null;
  read(addr: bigint, len: number): Buffer | null;
}

/** STRING_LIMIT is how many bytes of a string or buffer argument are printed. */
export const STRING_LIMIT = 32;
const PATH_MAX = 4096;
const ARGV_LIMIT = 32;
const AT_FDCWD = -100;

/**
 * formatSyscall prints `name(arg, ...)`. Pass `ret` once the call has returned to print
 * the buffers it filled (buf_out); before that they print as addresses.
 */
export function formatSyscall(sysno: number, args: readonly bigint[], mem: FormatMemory, ret?: bigint): string {
  const info = syscallByNumber(sysno);
  if (!info) return `syscall_${sysno}(${args.map(hex).join(', ')})`;
  const out: string[] = [];
  info.args.forEach((spec, i) => {
    if (spec.kind === 'skip') return;
    const prev = info.args[i - 1];
    // open/openat/mq_open: the mode is only read (and strace only prints it) with O_CREAT or O_TMPFILE.
    if (spec.kind === 'mode' && prev?.kind === 'flags_open' && !d.openTakesMode(Number(BigInt.asUintN(32, args[i - 1] ?? 0n)))) return;
    out.push(formatArg(spec, args[i] ?? 0n, args, mem, ret));
  });
  return `${info.name}(${out.join(', ')})`;
}

/** formatResult prints ` = value` or ` = -1 ENAME (text)` for syscall `sysno` returning `ret`. */
export function formatResult(sysno: number, ret: bigint, _args: readonly bigint[] = [], _mem?: FormatMemory): string {
  const info = syscallByNumber(sysno);
  const r = BigInt.asIntN(64, ret);
  if (info?.ret === 'noreturn') return '= ?';
  if (r < 0n && r >= -4095n) {
    const errno = Number(-r);
    // Kernel-internal restart codes never reach the application; strace shows them as "?".
    return errno >= 512 && errno <= 516 ? `= ? ${errnoText(errno)}` : `= -1 ${errnoText(errno)}`;
  }
  switch (info?.ret) {
    case 'hex':
    case 'ptr':
      return `= ${hex(ret)}`;
    case 'mode':
      return `= ${d.modeText(Number(BigInt.asUintN(32, ret)))}`;
    default:
      return `= ${r}`;
  }
}

function formatArg(spec: ArgSpec, v: bigint, args: readonly bigint[], mem: FormatMemory, ret?: bigint): string {
  const i32 = Number(BigInt.asIntN(32, v));
  const u32 = Number(BigInt.asUintN(32, v));
  switch (spec.kind) {
    case 'int': case 'fd': return String(i32);
    case 'long': case 'off': return String(BigInt.asIntN(64, v));
    case 'uint': case 'size': return String(BigInt.asUintN(64, v));
    case 'hex': return hex(v);
    case 'ptr': case 'struct_ptr': return ptr(v);
    case 'dirfd': return i32 === AT_FDCWD ? 'AT_FDCWD' : String(i32);
    case 'path': return cString(v, mem, PATH_MAX);
    case 'str': return cString(v, mem, STRING_LIMIT);
    case 'buf_in': return buffer(v, Number(BigInt.asUintN(64, args[spec.len!] ?? 0n)), mem);
    case 'buf_out': {
      const n = ret === undefined ? -1n : BigInt.asIntN(64, ret);
      return n < 0n ? ptr(v) : buffer(v, Number(n), mem);
    }
    case 'argv': return argvText(v, mem);
    case 'envp': return envpText(v, mem);
    case 'flags_open': return d.openFlagsText(u32);
    case 'flags_fd': return d.fdFlagsText(u32);
    case 'mode': return d.modeText(u32);
    case 'access_mode': return d.accessModeText(u32);
    case 'at_flags': return d.atFlagsText(u32);
    case 'prot': return d.protText(u32);
    case 'flags_mmap': return d.mmapFlagsText(u32);
    case 'flags_clone': return d.cloneFlagsText(BigInt.asUintN(64, v));
    case 'flags_ns': return d.nsFlagsText(u32);
    case 'signal': return d.signalName(i32);
    case 'sigset_ptr': {
      if (v === 0n) return 'NULL';
      const b = mem.read(v, 8);
      return b ? d.sigsetText(b.readBigUInt64LE(0)) : hex(v);
    }
    case 'sighow': return d.sigHowText(i32);
    case 'clockid': return d.clockText(i32);
    case 'whence': return d.whenceText(i32);
    case 'fcntl_cmd': return d.fcntlCmdText(i32);
    case 'futex_op': return d.futexOpText(i32);
    case 'skip': return '';
  }
}

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

function ptr(v: bigint): string {
  return v === 0n ? 'NULL' : hex(v);
}

function cString(addr: bigint, mem: FormatMemory, limit: number): string {
  if (addr === 0n) return 'NULL';
  const s = mem.readCString(addr, limit + 1);
  if (s === null) return hex(addr);
  const b = Buffer.from(s, 'latin1');
  return b.length > limit ? `${quote(b.subarray(0, limit))}...` : quote(b);
}

function buffer(addr: bigint, len: number, mem: FormatMemory): string {
  if (addr === 0n) return 'NULL';
  const n = Math.min(len, STRING_LIMIT);
  const b = mem.read(addr, n);
  if (b === null) return hex(addr);
  return len > STRING_LIMIT ? `${quote(b)}...` : quote(b);
}

/** readPointer reads one 64-bit pointer, or null. */
function readPointer(mem: FormatMemory, addr: bigint): bigint | null {
  const b = mem.read(addr, 8);
  return b ? b.readBigUInt64LE(0) : null;
}

function argvText(addr: bigint, mem: FormatMemory): string {
  if (addr === 0n) return 'NULL';
  const items: string[] = [];
  for (let i = 0; ; i++) {
    const p = readPointer(mem, addr + BigInt(i * 8));
    if (p === null) return i === 0 ? hex(addr) : `[${items.join(', ')}, ...]`;
    if (p === 0n) break;
    if (i === ARGV_LIMIT) return `[${items.join(', ')}, ...]`;
    items.push(cString(p, mem, STRING_LIMIT));
  }
  return `[${items.join(', ')}]`;
}

function envpText(addr: bigint, mem: FormatMemory): string {
  if (addr === 0n) return 'NULL';
  let n = 0;
  for (; n < 65536; n++) {
    const p = readPointer(mem, addr + BigInt(n * 8));
    if (p === null) return hex(addr);
    if (p === 0n) break;
  }
  return `${hex(addr)} /* ${n} var${n === 1 ? '' : 's'} */`;
}

const ESCAPES: Readonly<Record<number, string>> = { 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

/** quote prints bytes as a C string literal with strace's escapes (\n, \", octal for the rest). */
export function quote(b: Uint8Array): string {
  let s = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (ESCAPES[c]) s += ESCAPES[c];
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else {
      // A following digit would extend the octal escape: use three digits then.
      const next = b[i + 1];
      const full = next !== undefined && next >= 0x30 && next <= 0x37;
      s += `\\${full ? c.toString(8).padStart(3, '0') : c.toString(8)}`;
    }
  }
  return `${s}"`;
}
