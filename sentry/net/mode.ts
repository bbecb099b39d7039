/**
 * The sandbox's network mode, set once by the sentry's command line (`--network`):
 *   - 'host': AF_INET/AF_INET6 sockets are host sockets of the sandbox's network
 *     namespace (net/host/), loopback included;
 *   - 'none': they are the in-sentry loopback (fsimpl/socket/local.ts): nothing leaves
 *     the sandbox.
 * One sentry is one sandbox, hence one mode per process.
 */

/** NetworkMode is the sandbox's network mode. */
export type NetworkMode = 'host' | 'none';

let mode: NetworkMode = 'none';

/** setNetworkMode sets the mode (at start-up, before any socket exists). */
export function setNetworkMode(m: NetworkMode): void {
  mode = m;
}

/** networkMode returns the mode. */
export function networkMode(): NetworkMode {
  return mode;
}
