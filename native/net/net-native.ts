/**
 * net-native loads tvisor_net.node (the host-I/O reactor, native/net/reactor.cc) on
 * first use, naming every path it tried when it cannot.
 */
import { findFile } from '../ptrace/ptrace-native';
import type { NetAddon } from './addon';

let addon: NetAddon | undefined;

/** loadNetAddon returns the loaded addon, loading it on first use. */
export function loadNetAddon(): NetAddon {
  if (addon) return addon;
  const file = findFile('tvisor_net.node', ['native/build/Release/tvisor_net.node', 'build/Release/tvisor_net.node']);
  const mod = { exports: {} as NetAddon };
  try {
    process.dlopen(mod, file);
  } catch (err) {
    throw new Error(`tvisor_net.node: cannot load ${file}`, { cause: err });
  }
  addon = mod.exports;
  return addon;
}
