// Node without process.execve (Node 20): secretwrap runs as a child of this launch process, which
// only forwards signals and exits as the child did. As PID 1 a signal without a handler is
// discarded, so every stop signal gets one before the child exists.
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { FORWARDED_SIGNALS } from "../signals.ts";

/** On a terminal, ^C, ^\ and resizes reach the whole foreground group, the child included. */
const FROM_TERMINAL: readonly NodeJS.Signals[] = ["SIGINT", "SIGQUIT", "SIGWINCH"];

export function superviseRelaunch(argv: readonly string[], env: Readonly<Record<string, string>>): void {
  // Loaded here, not at the top: every run would pay for child_process and tty (several ms) at start.
  const { spawn } = process.getBuiltinModule("node:child_process");
  const { isatty } = process.getBuiltinModule("node:tty");
  // NODE_OPTIONS=--inspect opened an inspector in this process, which lives as long as the app and
  // still holds the caller's whole environment (bootstrap credentials included): close it.
  const inspector = process.getBuiltinModule("node:inspector");
  if (inspector.url() !== undefined) inspector.close();
  // Listeners before the child exists: a stop signal in between would otherwise kill only this
  // process, and the child would go on to resolve and start the app. Node runs them after this
  // synchronous stretch, when the child is there to receive the signal.
  const terminal = isatty(0);
  const forward: { to?: ChildProcess } = {};
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      if (terminal && FROM_TERMINAL.includes(signal)) return;
      try {
        forward.to?.kill(signal);
      } catch {
        // already gone: its exit follows
      }
    });
  }
  const [file = process.execPath, ...args] = argv;
  const child = spawn(file, args, { stdio: "inherit", env, argv0: file });
  forward.to = child;
  // Node's own binary failing to start is a broken installation (a bug for secretwrap): no app ran.
  child.once("error", () => {
    process.stderr.write("secretwrap: error: could not start Node again without its app-only variables\n");
    process.exit(70);
  });
  child.once("exit", (code, signal) => {
    process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
  });
}
