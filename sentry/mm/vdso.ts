/**
 * vdso maps the vDSO into an address space at exec, as Linux's map_vdso does: the data
 * page `[vvar]` (read-only) and, right above it, the image `[vdso]` (read+execute).
 *
 * Both are MemObjects of the memory file made once per memory file and shared by every
 * process: the image's pages hold its bytes, the data page the clock parameters that
 * kernel/vdso-clock.ts keeps current. Neither may ever become writable (mprotect with
 * PROT_WRITE is EACCES: Linux's [vvar] answers the same; its [vdso] is copy-on-write
 * instead, a difference noted in the README). fork shares them as any MAP_SHARED
 * mapping; execve maps them anew. /proc/<pid>/maps shows them as Linux does, with these
 * names.
 */
import { PROT_EXEC, PROT_READ, type MemoryFile } from '../../platform';
import { vdsoClock } from '../kernel/timekeeper';
import { vdsoImage } from '../loader/vdso';
import type { MemoryManager } from './mm';
import { MemObject } from './shared';
import { PAGE } from './vma';

/** VdsoObjects are the data page and the image of one memory file. */
interface VdsoObjects {
  vvar: MemObject;
  text: MemObject;
  textSize: number;
}

const objects = new WeakMap<MemoryFile, VdsoObjects>();

/** vdsoObjects returns (making them the first time) the memory file's vDSO objects; each keeps one reference of its own for ever. */
function vdsoObjects(mf: MemoryFile): VdsoObjects {
  let o = objects.get(mf);
  if (o) return o;
  const image = vdsoImage().text;
  const vvar = new MemObject(mf).ref();
  const text = new MemObject(mf).ref();
  const vr = vvar.chunk(0);
  mf.fill(vr.offset, PAGE, 0);
  const tr = text.chunk(0);
  mf.writeBytes(tr.offset, image);
  o = { vvar, text, textSize: image.length };
  objects.set(mf, o);
  vdsoClock.attach(mf.view(vr.offset, PAGE));
  return o;
}

/** vdsoSize is the room the vDSO takes in an address space: the data page and the image. */
export function vdsoSize(mf: MemoryFile): number {
  return PAGE + vdsoObjects(mf).textSize;
}

/** mapVdso maps [vvar] at addr and [vdso] at addr + PAGE (addr page-aligned and free); it returns the image's address (AT_SYSINFO_EHDR). */
export function mapVdso(mm: MemoryManager, addr: number): number {
  const o = vdsoObjects(mm.platform.memoryFile);
  mm.mapShared(addr, PAGE, PROT_READ, o.vvar, 0, '[vvar]');
  mm.mapShared(addr + PAGE, o.textSize, PROT_READ | PROT_EXEC, o.text, 0, '[vdso]');
  for (const v of mm.vmas) {
    if (v.start >= addr && v.end <= addr + PAGE + o.textSize) Object.assign(v, { noWrite: true, special: true });
  }
  return addr + PAGE;
}
