// Installed before anything else runs (see bin.ts). Without a listener, SIGUSR1 opens Node's
// inspector on 127.0.0.1:9229 in the process that holds every secret, SIGTERM is ignored when
// secretwrap is PID 1, and SIGPIPE/SIGXFSZ stay ignored across exec into the app.
import { constants } from "node:os";
import { SecretwrapError } from "./errors.ts";
import { takeUndispatchedSignals } from "./signal-pipe.ts";

export const FORWARDED_SIGNALS = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGCONT",
  "SIGALRM",
] as const satisfies readonly NodeJS.Signals[];
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

/** Before the app exists these stop secretwrap (exit 128+N); the others are ignored until then. */
const STOPPING: readonly ForwardedSignal[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"];

export type SignalHandler = (signal: ForwardedSignal) => void;

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

export interface SignalRouterOptions {
  /** The caller's /proc/self/coredump_filter, given back to the app (src/exec/coredump.ts). */
  readonly appCoreDumpFilter?: string | undefined;
}

export class SignalRouter {
  #handler: SignalHandler | undefined;
  #stopRequested: ForwardedSignal | undefined;
  readonly #stopListeners = new Set<(signal: ForwardedSignal) => void>();
  readonly #listeners = new Map<ForwardedSignal, () => void>();
  /**
   * Carried here because the router is the one object bin.ts makes before anything else and hands to
   * every path that starts the app; it is restored in the same last synchronous stretch.
   */
  readonly appCoreDumpFilter: string | undefined;

  constructor(options: SignalRouterOptions = {}) {
    this.appCoreDumpFilter = options.appCoreDumpFilter;
  }

  install(): void {
    for (const signal of FORWARDED_SIGNALS) {
      const listener = (): void => this.#dispatch(signal);
      this.#listeners.set(signal, listener);
      process.on(signal, listener);
    }
    // A real handler (not SIG_IGN) is reset to the default by exec, so the app starts clean.
    process.on("SIGPIPE", () => {});
    process.on("SIGXFSZ", () => {});
  }

  /** The first stopping signal received before the app started, if any. */
  get stopRequested(): ForwardedSignal | undefined {
    return this.#stopRequested;
  }

  onStop(listener: (signal: ForwardedSignal) => void): () => void {
    this.#stopListeners.add(listener);
    return () => this.#stopListeners.delete(listener);
  }

  /**
   * The last stop check before the app exists: the stop signal that arrived, if any (the caller
   * throws stoppedBy: bin.ts's bundle has its own copy of this module, errors.ts included).
   *
   * Node runs a signal listener only when the event loop reads libuv's signal pipe (its poll
   * phase). A signal that arrives during the synchronous work after the last await (writing files,
   * building the env) is caught by libuv's C handler, and so consumed, but its listener would run
   * only after execve, that is never. So the check first lets the loop poll once more: it runs in a
   * setImmediate callback queued from a setImmediate callback. One would not do: when that work ran
   * in the poll phase (the last await resumed from an I/O callback), the check phase that follows
   * comes before the next poll, and a signal caught meanwhile would still sit in the pipe.
   *
   * With `disarm` (the paths that execve), the stopping signals' listeners are then removed in the
   * same callback: libuv puts back SIG_DFL when a signal's last handle stops, so from here to the
   * execve a stop signal kills secretwrap (the caller sees 128+N) and the app never starts. A
   * signal caught between that poll phase and the removal sits in libuv's pipe, unread, and would be
   * dropped with the handle: so the pipe is then read here (src/signal-pipe.ts), and a stop found in
   * it is the answer. As PID 1 the kernel discards a SIG_DFL TERM, so there the listeners stay: a
   * signal caught from the last poll to the execve is still lost (no I/O, no await in that stretch).
   */
  lastCheck(options: { readonly disarm: boolean }): Promise<ForwardedSignal | undefined> {
    return new Promise((resolve) => {
      setImmediate(() =>
        setImmediate(() => {
          const stopped = this.#stopRequested;
          if (stopped === undefined && options.disarm && process.pid !== 1) {
            this.#disarmStops();
            const caught = takeUndispatchedSignals("SIGWINCH");
            resolve(caught === undefined ? undefined : firstStop(caught));
            return;
          }
          resolve(stopped);
        }),
      );
    });
  }

  /**
   * Route every later signal to the supervised app. Call it in the same synchronous stretch as the
   * spawn, after lastCheck: a signal that was caught meanwhile is dispatched after this, so it goes
   * to the app (which it then stops).
   */
  forwardTo(handler: SignalHandler): void {
    this.#handler = handler;
  }

  #disarmStops(): void {
    for (const signal of STOPPING) {
      const listener = this.#listeners.get(signal);
      if (listener !== undefined) process.removeListener(signal, listener);
      this.#listeners.delete(signal);
    }
  }

  #dispatch(signal: ForwardedSignal): void {
    if (this.#handler !== undefined) {
      this.#handler(signal);
      return;
    }
    if (STOPPING.includes(signal)) {
      this.#stopRequested ??= signal;
      for (const listener of this.#stopListeners) listener(signal);
    }
  }
}

/** The first stopping signal among these signal numbers. */
function firstStop(signals: readonly number[]): ForwardedSignal | undefined {
  for (const number of signals) {
    const stop = STOPPING.find((s) => signalNumber(s) === number);
    if (stop !== undefined) return stop;
  }
  return undefined;
}

/** The error for a run stopped by a signal before the command started: exit 128+N. */
export function stoppedBy(signal: NodeJS.Signals): SecretwrapError {
  return new SecretwrapError("INTERRUPTED", `stopped by ${signal} before the command started`, {
    exitCode: 128 + signalNumber(signal),
  });
}
