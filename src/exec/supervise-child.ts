// Supervising the app as a child process, where secretwrap's process is not replaced by it (Node <
// 22.15, or --supervise): the same stdio, every forwarded signal passed on, a SIGKILL when it does not
// stop in time, and its exit as secretwrap's (its code, or 128+N if signal N killed it). Used by the
// resolving process itself (exec/start.ts) and by the slim supervisor (exec/slim-supervisor.ts);
// --watch starts and restarts its app with spawnApp (src/watch/).
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../log.ts";
import type { Owner } from "../output/files.ts";
import { signalNumber, type ForwardedSignal, type SignalRouter } from "../signals.ts";
import { withAppCoreDumpFilter } from "./coredump.ts";
import { execFailure } from "./which.ts";

export interface AppSpawnOptions {
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly owner?: Owner;
  /** The caller's core dump filter, which the app inherits (coredump.ts). */
  readonly appCoreDumpFilter: string | undefined;
}

export interface SuperviseChildOptions extends AppSpawnOptions {
  readonly stopTimeoutMs: number;
  readonly router: SignalRouter;
  readonly log: Logger;
  /** On a terminal, ^C/^\/resizes already reach the whole foreground group, the app included. */
  readonly terminal: boolean;
}

/** A started app: its exit as secretwrap would report it, and a way to signal it. */
export interface AppChild {
  readonly pid: number | undefined;
  /** Its code, or 128+N if signal N killed it; rejects (126/127) when it could not be started. */
  readonly exit: Promise<number>;
  /** Signals it while it runs; a no-op once it has exited (its PID may belong to another process). */
  kill(signal: NodeJS.Signals): void;
  readonly exited: () => boolean;
}

// SIGCONT too: `fg` (and `bg`) make the shell send it to the whole job's process group.
const FROM_TERMINAL: readonly ForwardedSignal[] = ["SIGINT", "SIGQUIT", "SIGWINCH", "SIGCONT"];

/** Whether a signal secretwrap received must be passed on, or already reached the app from the terminal. */
export function passOn(signal: ForwardedSignal, terminal: boolean): boolean {
  return !(terminal && FROM_TERMINAL.includes(signal));
}

/**
 * Starts the app. spawn throws at once for all but a few errors (ETXTBSY, ELOOP, ENOEXEC...): those are
 * thrown here as 126/127, not 70; the rest reject `exit` the same way.
 */
export function spawnApp(options: AppSpawnOptions): AppChild {
  const [argv0, ...args] = options.argv;
  let child: ChildProcess;
  try {
    child = withAppCoreDumpFilter(options.appCoreDumpFilter, () =>
      spawn(options.path, args, {
        stdio: "inherit",
        env: options.env,
        ...(argv0 === undefined ? {} : { argv0 }),
        ...(options.owner === undefined ? {} : { uid: options.owner.uid, gid: options.owner.gid }),
      }),
    );
  } catch (error) {
    throw execFailure(error, argv0 ?? options.path);
  }
  let done = false;
  const exit = new Promise<number>((resolve, reject) => {
    child.once("error", (error) => {
      done = true;
      reject(execFailure(error, argv0 ?? options.path));
    });
    child.once("exit", (code, signal) => {
      done = true;
      resolve(code ?? 128 + signalNumber(signal ?? "SIGKILL"));
    });
  });
  return {
    pid: child.pid,
    exit,
    exited: () => done,
    kill: (signal) => {
      if (done) return;
      try {
        child.kill(signal);
      } catch {
        // the child is already gone; its exit event follows
      }
    },
  };
}

/**
 * After the first TERM/INT the app has `stopTimeoutMs` to exit before it is killed: call on each
 * stop; returns the timer to clear once it exited.
 */
export function killAfter(app: AppChild, stopTimeoutMs: number, log: Logger): NodeJS.Timeout {
  const timer = setTimeout(() => {
    log.warn(`the command did not stop within ${stopTimeoutMs / 1000}s; sending SIGKILL`);
    app.kill("SIGKILL");
  }, stopTimeoutMs);
  timer.unref();
  return timer;
}

export async function superviseChild(options: SuperviseChildOptions): Promise<number> {
  const app = spawnApp(options);
  let killTimer: NodeJS.Timeout | undefined;
  options.router.forwardTo((signal) => {
    if (passOn(signal, options.terminal)) app.kill(signal);
    if ((signal === "SIGTERM" || signal === "SIGINT") && killTimer === undefined) {
      killTimer = killAfter(app, options.stopTimeoutMs, options.log);
    }
  });
  try {
    return await app.exit;
  } finally {
    clearTimeout(killTimer);
  }
}
