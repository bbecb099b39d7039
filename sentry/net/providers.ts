/**
 * The socket providers of the sentry, one registration per family (see provider.ts).
 * A new family is one line here (or a registerSocketProvider call in the provider's own
 * module, imported here).
 */
import type { Task } from '../kernel/task';
import { loopbackFactory, unixFactory } from '../fsimpl/socket/local';
import { hostFactory } from './host/host-socket';
import { rawIcmpFactory } from './host/raw-icmp';
import { netlinkFactory } from './netlink/socket';
import { networkMode } from './mode';
import { registerSocketProvider, type SocketFactory } from './provider';

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
const SOCK_RAW = 3, IPPROTO_ICMP = 1;

/**
 * inetFactory serves one inet family: host sockets (raw ICMPv4 through a ping socket,
 * ./host/raw-icmp.ts), or the in-sentry loopback under `--network none`.
 */
function inetFactory(family: number): SocketFactory {
  const host = hostFactory(family), loopback = loopbackFactory(family);
  return (t: Task, type: number, protocol: number, flags: number) => {
    if (networkMode() !== 'host') return loopback(t, type, protocol, flags);
    if (family === AF_INET && (type & 0xf) === SOCK_RAW && protocol === IPPROTO_ICMP) return rawIcmpFactory(t, flags);
    return host(t, type, protocol, flags);
  };
}

registerSocketProvider(AF_UNIX, unixFactory);
registerSocketProvider(AF_INET, inetFactory(AF_INET));
registerSocketProvider(AF_INET6, inetFactory(AF_INET6));
registerSocketProvider(AF_NETLINK, netlinkFactory);
