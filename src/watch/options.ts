// What --watch does, as the command line and the SECRETWRAP_* variables give it. Pure.
import { constants } from "node:os";
import type { Parsed } from "../settings.ts";

/**
 * What the app is told when a secret it uses changed (--on-change):
 * - auto: a graceful restart when an env target changed (a process's environment cannot change), a
 *   SIGHUP when only files changed;
 * - restart: a graceful restart on any change;
 * - signal:NAME: that signal on any change (an env target keeps its old value until a restart);
 * - exit: the app is stopped and secretwrap exits 75, for an orchestrator to restart the container;
 * - none: files are swapped, nothing is said;
 * - exec:CMD (render --watch): CMD is run with sh -c after each swap, e.g. to tell another container.
 */
export type OnChange =
  | { readonly kind: "auto" | "restart" | "exit" | "none" }
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  | { readonly kind: "exec"; readonly command: string };

/** --on-expiry: a lease or token that could not be kept alive stops the app, or is only reported. */
export type OnExpiry = "exit" | "warn";

export interface WatchOptions {
  readonly refreshIntervalMs: number;
  readonly onChange: OnChange;
  readonly onExpiry: OnExpiry;
  /** --revoke-on-exit: leases and the login token are given up when the watch ends. */
  readonly revokeOnExit: boolean;
}

/** secretwrap's exit code when --on-change exit stopped the app (EX_TEMPFAIL: "try again"). */
export const SECRETS_CHANGED_EXIT = 75;

const SIMPLE = ["auto", "restart", "exit", "none"] as const;

/** The --on-change words a command takes: run has an app to tell, render only a command to run. */
export const ON_CHANGE_FOR = {
  run: ["auto", "restart", "signal:NAME", "exit", "none"],
  render: ["none", "exec:CMD", "exit"],
} as const;

export function parseOnChange(text: string, command: "run" | "render"): Parsed<OnChange> {
  const allowed: readonly string[] = ON_CHANGE_FOR[command];
  const refuse = (): Parsed<never> => ({
    ok: false,
    reason: `expected one of ${allowed.join(", ")}`,
  });
  const word = text.toLowerCase();
  const simple = SIMPLE.find((s) => s === word);
  if (simple !== undefined)
    return allowed.includes(simple) ? { ok: true, value: { kind: simple } } : refuse();
  if (word.startsWith("signal:") && allowed.includes("signal:NAME")) {
    const name = text.slice("signal:".length).toUpperCase();
    const signal = (name.startsWith("SIG") ? name : `SIG${name}`) as NodeJS.Signals;
    if (!Object.hasOwn(constants.signals, signal) || signal === "SIGKILL" || signal === "SIGSTOP")
      return { ok: false, reason: `signal:${name} is not a signal that can be sent to the app` };
    return { ok: true, value: { kind: "signal", signal } };
  }
  if (word.startsWith("exec:") && allowed.includes("exec:CMD")) {
    const command = text.slice("exec:".length);
    if (command.trim() === "") return { ok: false, reason: "exec: needs a command" };
    return { ok: true, value: { kind: "exec", command } };
  }
  return refuse();
}
