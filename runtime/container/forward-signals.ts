/**
 * forward-signals.ts passes the signals sent to a foreground `run` (or `do`) on to the
 * container's init, as `runc run` does, so that the runtime never dies of them and leaves
 * a running sandbox behind: init decides, and the runtime exits with init's status once
 * it has cleaned up.
 *
 * Which signals: those Debian's runc 1.1 forwards from a foreground `runc run`, measured
 * by sending each of 1..31 to runc with an init that prints what it receives: every
 * catchable signal but SIGCHLD (runc reaps), SIGWINCH (runc resizes the terminal),
 * SIGPROF and SIGURG (Go's own; runc leaks the latter, we do not). SIGILL, SIGBUS, SIGFPE
 * and SIGSEGV are forwarded too, as runc does: sent with kill(2) they are requests like
 * any other. (A real fault of this process would now spin instead of killing it; its only
 * native calls are the few spawn and pipe calls of native/spawn.ts.) Real-time signals
 * cannot be caught by a Node program; runc dies of them too (measured: 128+34), and then
 * the sandbox sees its lifeline end and kills the container (sentry-sandbox.ts).
 *
 * Ordering: install() comes before the sandbox exists, so that a signal sent during
 * create is held and delivered once init runs (runc queues it likewise); after init has
 * exited, signals are swallowed until uninstall(), so that the cleanup always completes.
 */
import { constants } from 'node:os';

/** FORWARDED_SIGNALS names the signals a foreground run passes on to init. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGXCPU',
  'SIGXFSZ', 'SIGVTALRM', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/**
 * SWALLOWED_SIGNALS are caught and dropped: runc's Go runtime takes SIGPROF for itself and
 * survives it, where Node's default would end the runtime.
 */
export const SWALLOWED_SIGNALS: readonly NodeJS.Signals[] = ['SIGPROF'];

/** Deliver sends one signal number to the container's init. */
export type Deliver = (signo: number) => Promise<void>;

/** SignalForwarder holds the runtime's listeners for FORWARDED_SIGNALS while a foreground container lives. */
export class SignalForwarder {
  private deliver?: Deliver;
  /** held: signals received before init ran, in order. */
  private held: number[] = [];
  /** closed: init has exited; later signals are dropped. */
  private closed = false;
  private readonly listeners = new Map<NodeJS.Signals, () => void>();

  /** onError, when set, hears a delivery that failed (a sandbox that has just ended). */
  constructor(private readonly onError: (signo: number, err: Error) => void = () => undefined) {}

  /** install puts a listener on every forwarded signal. */
  install(): void {
    for (const name of FORWARDED_SIGNALS) {
      const signo = signalNumber(name);
      const listener = () => this.received(signo);
      this.listeners.set(name, listener);
      process.on(name, listener);
    }
    for (const name of SWALLOWED_SIGNALS) {
      const listener = () => undefined;
      this.listeners.set(name, listener);
      process.on(name, listener);
    }
  }

  /** deliverTo starts forwarding to init through `deliver`, first whatever was held. */
  deliverTo(deliver: Deliver): void {
    this.deliver = deliver;
    const held = this.held;
    this.held = [];
    for (const signo of held) this.send(signo);
  }

  /** close drops every later signal: init has exited and the runtime is cleaning up. */
  close(): void {
    this.closed = true;
    this.deliver = undefined;
    this.held = [];
  }

  /** uninstall removes the listeners: the runtime takes the default actions again. */
  uninstall(): void {
    for (const [name, listener] of this.listeners) process.removeListener(name, listener);
    this.listeners.clear();
  }

  private received(signo: number): void {
    if (this.closed) return;
    if (this.deliver) this.send(signo);
    else this.held.push(signo);
  }

  private send(signo: number): void {
    this.deliver!(signo).catch((err: Error) => this.onError(signo, err));
  }
}

function signalNumber(name: NodeJS.Signals): number {
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new Error(`signal ${name} is unknown on this system`);
  return n;
}
