// The app under --watch: started as a supervised child, told about changes (a signal), restarted
// gracefully with a new environment (stop signal, --stop-timeout, SIGKILL, and only once the old one is
// gone the new one starts), or stopped for good with secretwrap's own exit code (an expired credential,
// --on-change exit). Every signal secretwrap receives goes to the app that runs now; a stop signal
// also ends the watch, so nothing is restarted after it.
import { SecretwrapError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { killAfter, passOn, spawnApp, type AppChild, type AppSpawnOptions } from "../exec/supervise-child.ts";
import { signalNumber, type ForwardedSignal, type SignalRouter } from "../signals.ts";

export interface AppUnderWatchOptions extends Omit<AppSpawnOptions, "env" | "path"> {
  readonly stopTimeoutMs: number;
  readonly router: SignalRouter;
  readonly log: Logger;
  /** A stop signal reached secretwrap: the watch must end (no more changes, no restart). */
  readonly onStop: () => void;
}

export class AppUnderWatch {
  readonly #options: AppUnderWatchOptions;
  #path = "";
  #terminal = false;
  #app: AppChild | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #restarting = false;
  /**
   * Between a restart's stop and the start of the new app: the env it will start with, and the old
   * app's exit code. The new app starts only once no other change waits (resume()), so a change that
   * came during the stop is in its files and env from the start, rather than a signal it may get
   * before it could install a handler for it (SIGHUP's default action ends a process).
   */
  #pending: { readonly env: Readonly<Record<string, string>>; readonly code: number } | undefined;
  #stopping = false;
  /** secretwrap's exit code when it stopped the app itself (77/69 expiry, 75 on-change exit). */
  #ownCode: number | undefined;
  #finish: (code: number) => void = () => {};
  #fail: (error: unknown) => void = () => {};
  readonly result: Promise<number>;

  constructor(options: AppUnderWatchOptions) {
    this.#options = options;
    this.result = new Promise<number>((resolve, reject) => {
      this.#finish = resolve;
      this.#fail = reject;
    });
    // Kept from here on: a rejection is read by whoever awaits result.
    this.result.catch(() => {});
  }

  /**
   * Starts the first app and routes every later signal to whichever app runs then. `terminal`: on a
   * terminal, ^C/^\/resizes already reach the whole foreground group, the app included.
   */
  start(path: string, env: Readonly<Record<string, string>>, terminal: boolean): void {
    this.#path = path;
    this.#terminal = terminal;
    this.#spawn(env);
    this.#options.router.forwardTo((signal) => this.#onSignal(signal));
  }

  get pid(): number | undefined {
    return this.#app?.pid;
  }

  /** Sends the app a signal about a change; nothing when it is not running (no PID is reused). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#stopping && !this.#restarting) this.#app?.kill(signal);
  }

  /**
   * Stops the app gracefully; resolves once it is gone. The new app starts with `env` at resume() (the
   * newest env when several restarts came before it).
   */
  async restart(env: Readonly<Record<string, string>>): Promise<void> {
    if (this.#pending !== undefined) {
      this.#pending = { ...this.#pending, env };
      return;
    }
    const old = this.#app;
    if (old === undefined || this.#stopping) return;
    this.#restarting = true;
    this.#options.log.info("restarting the command with the new secrets", { pid: old.pid ?? 0 });
    old.kill("SIGTERM");
    const timer = killAfter(old, this.#options.stopTimeoutMs, this.#options.log);
    const code = await old.exit.catch(() => 0);
    clearTimeout(timer);
    if (this.#stopping) {
      // A stop signal came during the restart: the old app is gone and no new one starts.
      this.#restarting = false;
      this.#finish(this.#ownCode ?? code);
      return;
    }
    this.#pending = { env, code };
  }

  /** Starts the app a restart stopped (once no other change waits); nothing if none is pending. */
  resume(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#restarting = false;
    if (this.#stopping) this.#finish(this.#ownCode ?? pending.code);
    else this.#spawn(pending.env);
  }

  /** Stops the app for good; secretwrap then exits with `code`, whatever the app's own. */
  stopWith(code: number, signal: NodeJS.Signals = "SIGTERM"): void {
    if (this.#stopping) return;
    this.#ownCode = code;
    this.#beginStop(signal);
    if (this.#app === undefined || this.#app.exited()) this.#finish(code);
  }

  #spawn(env: Readonly<Record<string, string>>): void {
    let app: AppChild;
    try {
      app = spawnApp({ ...this.#options, path: this.#path, env });
    } catch (error) {
      this.#stopping = true;
      this.#fail(error);
      return;
    }
    this.#app = app;
    app.exit.then(
      (code) => {
        if (this.#app !== app || this.#restarting) return;
        clearTimeout(this.#killTimer);
        this.#stopping = true;
        this.#finish(this.#ownCode ?? code);
      },
      (error: unknown) => {
        if (this.#app !== app) return;
        this.#stopping = true;
        this.#fail(
          error instanceof SecretwrapError
            ? error
            : new SecretwrapError("INTERNAL", "the command failed to start", { cause: error }),
        );
      },
    );
  }

  #onSignal(signal: ForwardedSignal): void {
    if (passOn(signal, this.#terminal)) this.#app?.kill(signal);
    if (signal === "SIGTERM" || signal === "SIGINT") {
      const first = !this.#stopping;
      this.#beginStop(undefined);
      if (first && !this.#restarting && (this.#app === undefined || this.#app.exited()))
        this.#finish(128 + signalNumber(signal));
    }
  }

  /** From here on nothing restarts; the app gets `signal` (if any) and --stop-timeout to exit. */
  #beginStop(signal: NodeJS.Signals | undefined): void {
    if (!this.#stopping) this.#options.onStop();
    this.#stopping = true;
    // Stopped between a restart's stop and its start: no app runs, none starts.
    if (this.#pending !== undefined) this.resume();
    const app = this.#app;
    if (app === undefined || app.exited()) return;
    if (signal !== undefined) app.kill(signal);
    this.#killTimer ??= killAfter(app, this.#options.stopTimeoutMs, this.#options.log);
  }
}
