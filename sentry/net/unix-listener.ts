/**
 * UnixListener is a listening Unix socket of the sentry's own (the control and exec
 * sockets the runtime connects to), served by the host-I/O reactor (reactor.ts) rather
 * than node:net (whose listen loads node:cluster, dgram and child_process at start).
 *
 * The reactor is edge-triggered: each wake-up accepts until EAGAIN. Every accepted
 * connection is non-blocking and close-on-exec; `onAccept` owns it from then on (it
 * watches it on the reactor and closes it).
 */
import { accept, closeFd, listenUnix, setNonBlocking, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../../native/unixsock';
import { EPOLLIN, reactor } from './reactor';

export class UnixListener {
  private readonly fd: number;

  constructor(readonly path: string, private readonly onAccept: (fd: number) => void) {
    this.fd = listenUnix(path);
    setNonBlocking(this.fd);
    reactor().watch(this.fd, EPOLLIN, () => this.acceptAll());
  }

  private acceptAll(): void {
    for (;;) {
      const fd = accept(this.fd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) return;
      this.onAccept(fd);
    }
  }

  /** close stops listening (the connections accepted so far are their owners'). */
  close(): void {
    reactor().unwatch(this.fd);
    closeFd(this.fd);
  }
}
