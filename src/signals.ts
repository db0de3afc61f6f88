// Installed before anything else runs (see bin.ts). Without a listener, SIGUSR1 opens Node's
// inspector on 127.0.0.1:9229 in the process that holds every secret, SIGTERM is ignored when
// secretwrap is PID 1, and SIGPIPE/SIGXFSZ stay ignored across exec into the app.
import { constants } from "node:os";
import { SecretwrapError } from "./errors.ts";

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

export class SignalRouter {
  #handler: SignalHandler | undefined;
  #stopRequested: ForwardedSignal | undefined;
  readonly #stopListeners = new Set<(signal: ForwardedSignal) => void>();

  install(): void {
    for (const signal of FORWARDED_SIGNALS) process.on(signal, () => this.#dispatch(signal));
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
   * Route every later signal to the supervised app. Call it in the same synchronous stretch as the
   * spawn, after checking stopRequested: listeners only run between event-loop turns, so no signal
   * can fall between the check and the hand-over.
   */
  forwardTo(handler: SignalHandler): void {
    this.#handler = handler;
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

/** The error for a run stopped by a signal before the command started: exit 128+N. */
export function stoppedBy(signal: NodeJS.Signals): SecretwrapError {
  return new SecretwrapError("INTERRUPTED", `stopped by ${signal} before the command started`, {
    exitCode: 128 + signalNumber(signal),
  });
}
