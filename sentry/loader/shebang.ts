/**
 * shebang parses a `#!` script's first line with Linux's rules (fs/binfmt_script.c):
 *
 * - Only the first BINPRM_BUF_SIZE (256) bytes are looked at; a file shorter than that
 *   reads as if padded with NUL bytes.
 * - The line ends at the first '\n'. Without one in the buffer the line is the whole
 *   buffer, unless the interpreter name itself runs to its end (then it may have been cut:
 *   ENOEXEC).
 * - Spaces and tabs around the interpreter are skipped; the interpreter ends at a space,
 *   tab or NUL; everything after the following blanks up to the (blank-trimmed) end of line
 *   is ONE argument, spaces included, cut at a NUL. An empty interpreter is ENOEXEC.
 *
 * The caller then execs the interpreter with argv = [interp, arg?, scriptPath,
 * ...originalArgv.slice(1)] (scriptPath is the path the script was opened by, which is
 * also AT_EXECFN), and repeats for an interpreter that is itself a script, up to
 * MAX_INTERPRETER_DEPTH levels, then fails with ELOOP.
 */
import { Errno, loaderFail } from './types';

/** BINPRM_BUF_SIZE is how many leading bytes of a file exec examines. */
export const BINPRM_BUF_SIZE = 256;
/**
 * MAX_INTERPRETER_DEPTH is how many nested `#!` scripts may precede the final binary.
 * Measured on Linux 6.18 here: a chain of 5 scripts runs, a 6th gives ELOOP (fs/exec.c
 * checks depth > 5).
 */
export const MAX_INTERPRETER_DEPTH = 5;

/** Shebang is a script's interpreter and optional single argument. */
export interface Shebang {
  interpreter: string;
  arg: string | null;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;
const isTerminator = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0;

/** parseShebang returns the script's interpreter, or null when the bytes do not start with `#!`. */
export function parseShebang(firstBytes: Buffer): Shebang | null {
  if (firstBytes.length < 2 || firstBytes[0] !== 0x23 || firstBytes[1] !== 0x21) return null;
  const buf = Buffer.alloc(BINPRM_BUF_SIZE);
  firstBytes.copy(buf, 0, 0, BINPRM_BUF_SIZE);
  const bufEnd = BINPRM_BUF_SIZE - 1; // Linux keeps the last byte for a terminating NUL.
  let end = buf.indexOf(0x0a);
  if (end < 0 || end > bufEnd) {
    let name = 2;
    while (name < bufEnd && isBlank(buf[name])) name++;
    if (name >= bufEnd) loaderFail(Errno.ENOEXEC, 'script: "#!" line holds only blanks');
    let t = name;
    while (t < bufEnd && !isTerminator(buf[t])) t++;
    if (t >= bufEnd) loaderFail(Errno.ENOEXEC, `script: interpreter name longer than ${BINPRM_BUF_SIZE} bytes`);
    end = bufEnd;
  }
  while (end > 2 && isBlank(buf[end - 1])) end--;
  let name = 2;
  while (name < end && isBlank(buf[name])) name++;
  if (name >= end || buf[name] === 0) loaderFail(Errno.ENOEXEC, 'script: no interpreter after "#!"');
  let sep = name;
  while (sep < end && !isTerminator(buf[sep])) sep++;
  const interpreter = buf.subarray(name, sep).toString('latin1');
  let arg: string | null = null;
  if (sep < end && buf[sep] !== 0) {
    let a = sep;
    while (a < end && isBlank(buf[a])) a++;
    if (a < end) {
      const nul = buf.indexOf(0, a);
      const stop = nul >= 0 && nul < end ? nul : end;
      arg = buf.subarray(a, stop).toString('latin1');
    }
  }
  return { interpreter, arg };
}

/** scriptArgv builds the interpreter's argv from a parsed `#!` line (see the module comment). */
export function scriptArgv(sb: Shebang, scriptPath: string, argv: readonly string[]): string[] {
  return [sb.interpreter, ...(sb.arg !== null ? [sb.arg] : []), scriptPath, ...argv.slice(1)];
}
