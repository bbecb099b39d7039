/**
 * vdso holds the vDSO image (vdso/vdso.c, built by `make` into build/vdso/vdso.so): the
 * bundles embed it (scripts/build.mjs defines process.env.TVISOR_VDSO_IMAGE, base64), and
 * the sources read the built file. It is parsed and checked once, like any executable:
 * one read+execute PT_LOAD at address 0, the file (section headers included) within
 * VDSO_MAX_PAGES pages.
 */
import { readFileSync } from 'node:fs';
import { findFile } from '../../native/ptrace/ptrace-native';
import { ET_DYN, parseElf } from './elf';
import { Errno, loaderFail, pageUp, PAGE_SIZE } from './types';

/** VDSO_MAX_PAGES bounds the image (Linux's is two pages; ours is one). */
export const VDSO_MAX_PAGES = 4;

/** VdsoImage is the vDSO's bytes, padded to whole pages. */
export interface VdsoImage {
  /** text is the image, page-padded: what [vdso] maps. */
  text: Buffer;
}

let cached: VdsoImage | null = null;

/** checkVdsoImage validates raw vDSO bytes and returns them page-padded (ENOEXEC when malformed). */
export function checkVdsoImage(raw: Buffer): VdsoImage {
  const info = parseElf({ size: raw.length, readAt: (off, len) => raw.subarray(off, off + len) });
  if (info.type !== ET_DYN || info.loads.length !== 1 || info.loads[0].vaddr !== 0n || info.loads[0].offset !== 0) {
    loaderFail(Errno.ENOEXEC, 'vdso: the image must be one PT_LOAD at address 0');
  }
  const seg = info.loads[0];
  if (seg.prot !== 5 || seg.memsz !== seg.filesz) loaderFail(Errno.ENOEXEC, 'vdso: the image must be read+execute, with no bss');
  // The whole file is mapped, as Linux maps its image: the section headers (past the
  // PT_LOAD) are what debuggers read the vDSO's sections from.
  const size = pageUp(BigInt(Math.max(raw.length, seg.memsz)));
  if (size > BigInt(VDSO_MAX_PAGES * PAGE_SIZE)) loaderFail(Errno.ENOEXEC, `vdso: the image is larger than ${VDSO_MAX_PAGES} pages`);
  const text = Buffer.alloc(Number(size));
  raw.copy(text);
  return { text };
}

/** vdsoImage returns the embedded image (or the built file's), checked once. */
export function vdsoImage(): VdsoImage {
  if (cached) return cached;
  const embedded = process.env.TVISOR_VDSO_IMAGE;
  const raw = embedded ? Buffer.from(embedded, 'base64') : readFileSync(findFile('vdso image', ['build/vdso/vdso.so']));
  cached = checkVdsoImage(raw);
  return cached;
}
