/**
 * fs-native loads tvisor_fs.node (the gofer's directory listing, native/fs/dirstat.cc)
 * on first use, naming every path it tried when it cannot. The gofer loads it before it
 * gives up its view of the host (gofer/main.ts): the file is a host path.
 */
import { loadAddonFile } from '../ptrace/ptrace-native';
import type { FsAddon } from './addon';

let addon: FsAddon | undefined;

/** loadFsAddon returns the loaded addon, loading it on first use. */
export function loadFsAddon(): FsAddon {
  addon ??= loadAddonFile<FsAddon>('tvisor_fs.node').exports;
  return addon;
}
