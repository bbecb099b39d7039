/**
 * registers is the typed view of an x86-64 task's user registers, in the byte layout of
 * `struct user_regs_struct` (sys/user.h) so that the ptrace backend hands the buffer to
 * PTRACE_GETREGS/SETREGS as-is and the KVM backend can copy it field by field.
 *
 * Values: every register accessor reads and writes a bigint holding the unsigned 64-bit
 * value (exact for pointers, -1 reads as 2^64-1). `sysno` is a number (the syscall number,
 * -1 when not in a syscall). `arg(i)` is a bigint like the registers; `argNumber(i)` is a
 * convenience for arguments known to be small (fds, flags, lengths). `setReturn` takes a
 * number or bigint, negative values meaning -errno.
 */

/** RegisterName lists the fields of struct user_regs_struct in memory order. */
export const REGISTER_NAMES = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi',
  'rdi', 'origRax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fsBase', 'gsBase', 'ds', 'es', 'fs', 'gs',
] as const;

/** RegisterName is one field of struct user_regs_struct. */
export type RegisterName = (typeof REGISTER_NAMES)[number];

const IDX = Object.fromEntries(REGISTER_NAMES.map((n, i) => [n, i])) as Record<RegisterName, number>;
/** Syscall argument registers in order (the x86-64 syscall ABI). */
const ARG_IDX = [IDX.rdi, IDX.rsi, IDX.rdx, IDX.r10, IDX.r8, IDX.r9];

/** REGISTERS_SIZE is sizeof(struct user_regs_struct). */
export const REGISTERS_SIZE = REGISTER_NAMES.length * 8;

const USER_CS = 0x33n;
const USER_DS = 0x2bn;
const EFLAGS_IF = 0x202n;

/** Registers is one task's user register set over a Buffer laid out as user_regs_struct. */
export class Registers {
  /** buffer holds the registers; platforms pass it to the host unchanged. */
  readonly buffer: Buffer;
  private readonly u64: BigUint64Array;
  private readonly i32: Int32Array;

  constructor() {
    this.buffer = Buffer.alloc(REGISTERS_SIZE);
    this.u64 = new BigUint64Array(this.buffer.buffer, this.buffer.byteOffset, REGISTER_NAMES.length);
    this.i32 = new Int32Array(this.buffer.buffer, this.buffer.byteOffset, REGISTER_NAMES.length * 2);
    this.u64[IDX.cs] = USER_CS;
    this.u64[IDX.ss] = USER_DS;
    this.u64[IDX.eflags] = EFLAGS_IF;
    this.u64[IDX.origRax] = ~0n & 0xffffffffffffffffn;
  }

  /** Registers.forEntry returns registers for a new task starting at `rip` with stack `rsp`. */
  static forEntry(rip: bigint, rsp: bigint): Registers {
    const r = new Registers();
    r.rip = rip;
    r.rsp = rsp;
    return r;
  }

  /** get returns register `name` as an unsigned 64-bit bigint. */
  get(name: RegisterName): bigint {
    return this.u64[IDX[name]];
  }

  /** set writes register `name` (taken modulo 2^64, so -1n is all ones). */
  set(name: RegisterName, v: bigint): void {
    this.u64[IDX[name]] = BigInt.asUintN(64, v);
  }

  get rax(): bigint { return this.u64[IDX.rax]; }
  set rax(v: bigint) { this.set('rax', v); }
  get rbx(): bigint { return this.u64[IDX.rbx]; }
  set rbx(v: bigint) { this.set('rbx', v); }
  get rcx(): bigint { return this.u64[IDX.rcx]; }
  set rcx(v: bigint) { this.set('rcx', v); }
  get rdx(): bigint { return this.u64[IDX.rdx]; }
  set rdx(v: bigint) { this.set('rdx', v); }
  get rsi(): bigint { return this.u64[IDX.rsi]; }
  set rsi(v: bigint) { this.set('rsi', v); }
  get rdi(): bigint { return this.u64[IDX.rdi]; }
  set rdi(v: bigint) { this.set('rdi', v); }
  get rbp(): bigint { return this.u64[IDX.rbp]; }
  set rbp(v: bigint) { this.set('rbp', v); }
  get rsp(): bigint { return this.u64[IDX.rsp]; }
  set rsp(v: bigint) { this.set('rsp', v); }
  get r8(): bigint { return this.u64[IDX.r8]; }
  set r8(v: bigint) { this.set('r8', v); }
  get r9(): bigint { return this.u64[IDX.r9]; }
  set r9(v: bigint) { this.set('r9', v); }
  get r10(): bigint { return this.u64[IDX.r10]; }
  set r10(v: bigint) { this.set('r10', v); }
  get r11(): bigint { return this.u64[IDX.r11]; }
  set r11(v: bigint) { this.set('r11', v); }
  get r12(): bigint { return this.u64[IDX.r12]; }
  set r12(v: bigint) { this.set('r12', v); }
  get r13(): bigint { return this.u64[IDX.r13]; }
  set r13(v: bigint) { this.set('r13', v); }
  get r14(): bigint { return this.u64[IDX.r14]; }
  set r14(v: bigint) { this.set('r14', v); }
  get r15(): bigint { return this.u64[IDX.r15]; }
  set r15(v: bigint) { this.set('r15', v); }
  get rip(): bigint { return this.u64[IDX.rip]; }
  set rip(v: bigint) { this.set('rip', v); }
  get eflags(): bigint { return this.u64[IDX.eflags]; }
  set eflags(v: bigint) { this.set('eflags', v); }
  get origRax(): bigint { return this.u64[IDX.origRax]; }
  set origRax(v: bigint) { this.set('origRax', v); }
  get fsBase(): bigint { return this.u64[IDX.fsBase]; }
  set fsBase(v: bigint) { this.set('fsBase', v); }
  get gsBase(): bigint { return this.u64[IDX.gsBase]; }
  set gsBase(v: bigint) { this.set('gsBase', v); }

  /** sysno is the number of the syscall the task stopped in (orig_rax), -1 outside one. */
  get sysno(): number {
    // orig_rax is sign-extended from 32 bits for every real syscall number and for -1.
    return this.i32[IDX.origRax * 2];
  }

  /** arg returns syscall argument i (0..5) as an unsigned 64-bit bigint. */
  arg(i: number): bigint {
    const idx = ARG_IDX[i];
    if (idx === undefined) throw new RangeError(`syscall argument ${i}: must be 0..5`);
    return this.u64[idx];
  }

  /** argNumber returns syscall argument i as a number; throws if it is not a safe integer. */
  argNumber(i: number): number {
    const v = this.arg(i);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`syscall argument ${i}: ${v} exceeds 2^53`);
    return Number(v);
  }

  /** argInt returns syscall argument i as a signed 32-bit number (the C `int` ABI). */
  argInt(i: number): number {
    const idx = ARG_IDX[i];
    if (idx === undefined) throw new RangeError(`syscall argument ${i}: must be 0..5`);
    return this.i32[idx * 2];
  }

  /** setReturn stores a syscall result in rax; a negative value is -errno. */
  setReturn(v: number | bigint): void {
    const k = IDX.rax * 2;
    if (typeof v === 'number' && v === (v | 0)) {
      this.i32[k] = v;
      this.i32[k + 1] = v < 0 ? -1 : 0;
      return;
    }
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`syscall result ${v}: not an integer`);
    this.u64[IDX.rax] = BigInt.asUintN(64, BigInt(v));
  }

  /** copyFrom copies every register from `other`. */
  copyFrom(other: Registers): void {
    this.buffer.set(other.buffer);
  }

  /** clone returns an independent copy. */
  clone(): Registers {
    const r = new Registers();
    r.copyFrom(this);
    return r;
  }

  /** toJSON returns the registers as hex strings, for logs and test failure messages. */
  toJSON(): Record<RegisterName, string> {
    return Object.fromEntries(REGISTER_NAMES.map((n) => [n, `0x${this.get(n).toString(16)}`])) as Record<RegisterName, string>;
  }
}
