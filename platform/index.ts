/**
 * index is the platform layer's entry point: it registers every backend and offers
 * getPlatform, which also creates the sandbox's memory file when none is given.
 */
import { MemoryFile } from './memfile/memory-file';
import { getPlatformWith, type Platform } from './platform';
import './ptrace/ptrace';
import './systrap/systrap';
import './kvm/kvm';

export * from './platform';
export { Registers } from './registers';
export { FpState } from './fpstate';
export { MemoryFile } from './memfile/memory-file';
export { copyIn, copyOut, MemoryFault, type Translator } from './memfile/copy';
export { firstEndingAfter } from './memfile/mappings';

/** getPlatform returns backend `name` ('ptrace') over `memoryFile`, or over a new one. */
export function getPlatform(name: string, memoryFile?: MemoryFile): Platform {
  return getPlatformWith(name, memoryFile ?? MemoryFile.create());
}
