/**
 * net-native loads tvisor_net.node (the host-I/O reactor, native/net/reactor.cc) on
 * first use, naming every path it tried when it cannot.
 */
import { loadAddonFile } from '../ptrace/ptrace-native';
import type { NetAddon } from './addon';

let addon: NetAddon | undefined;

/** loadNetAddon returns the loaded addon, loading it on first use. */
export function loadNetAddon(): NetAddon {
  addon ??= loadAddonFile<NetAddon>('tvisor_net.node').exports;
  return addon;
}
