// Supervising the app as a child process, where secretwrap's process is not replaced by it (Node <
// 22.15, or --supervise): the same stdio, every forwarded signal passed on, a SIGKILL when it does not
// stop in time, and its exit as secretwrap's (its code, or 128+N if signal N killed it). Used by the
// resolving process itself (exec/start.ts) and by the slim supervisor (exec/slim-supervisor.ts).
import { spawn } from "node:child_process";
import type { Logger } from "../log.ts";
import type { Owner } from "../output/files.ts";
import { signalNumber, type ForwardedSignal, type SignalRouter } from "../signals.ts";
import { withAppCoreDumpFilter } from "./coredump.ts";
import { execFailure } from "./which.ts";

export interface SuperviseChildOptions {
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stopTimeoutMs: number;
  readonly owner?: Owner;
  readonly router: SignalRouter;
  readonly log: Logger;
  /** On a terminal, ^C/^\/resizes already reach the whole foreground group, the app included. */
  readonly terminal: boolean;
  /** The caller's core dump filter, which the app inherits (coredump.ts). */
  readonly appCoreDumpFilter: string | undefined;
}

// SIGCONT too: `fg` (and `bg`) make the shell send it to the whole job's process group.
const FROM_TERMINAL: readonly ForwardedSignal[] = ["SIGINT", "SIGQUIT", "SIGWINCH", "SIGCONT"];

export function superviseChild(options: SuperviseChildOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = options.argv;
    let child: ReturnType<typeof spawn>;
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
      // spawn throws at once for all but a few errors (ETXTBSY, ELOOP, ENOEXEC...): 126, not 70.
      reject(execFailure(error, argv0 ?? options.path));
      return;
    }
    let killTimer: NodeJS.Timeout | undefined;
    options.router.forwardTo((signal) => {
      if (!(options.terminal && FROM_TERMINAL.includes(signal))) {
        try {
          child.kill(signal);
        } catch {
          // the child is already gone; its exit event follows
        }
      }
      if ((signal === "SIGTERM" || signal === "SIGINT") && killTimer === undefined) {
        killTimer = setTimeout(() => {
          options.log.warn(
            `the command did not stop within ${options.stopTimeoutMs / 1000}s; sending SIGKILL`,
          );
          child.kill("SIGKILL");
        }, options.stopTimeoutMs);
        killTimer.unref();
      }
    });
    child.once("error", (error) => {
      clearTimeout(killTimer);
      reject(execFailure(error, argv0 ?? options.path));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(killTimer);
      resolve(code ?? 128 + signalNumber(signal ?? "SIGKILL"));
    });
  });
}
