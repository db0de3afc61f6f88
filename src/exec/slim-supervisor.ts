// The slim supervisor's main: the process a --supervise run becomes (execve, same PID) once every
// secret is resolved (see handover.ts); it supervises the app through supervise-child.ts. It loads no provider, SDK or config code, so what stays resident for the app's
// lifetime is little more than Node itself; its environment is the app's, with the variables Node
// applies at start-up moved aside (appenv.ts) and handed back to the app.
import { rmSync } from "node:fs";
import { takeAppOnlyVariables } from "../appenv.ts";
import { environmentObject } from "../launch/environ.ts";
import { asSecretwrapError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { Redactor } from "../redact.ts";
import { consequenceOf, reportError } from "../report.ts";
import { stoppedBy, type SignalRouter } from "../signals.ts";
import { SUPERVISOR_ARG } from "./handover.ts";
import { decodeHandover } from "./handover-schema.ts";
import { superviseChild } from "./supervise-child.ts";

export async function runSlimSupervisor(argument: string, router: SignalRouter): Promise<number> {
  const redactor = new Redactor();
  let log = createLogger({ level: "info", format: "text", redactor });
  let secretsDir: string | undefined;
  try {
    const handover = decodeHandover(argument, SUPERVISOR_ARG);
    secretsDir = handover.secretsDir;
    for (const name of handover.secretNames) {
      const value = process.env[name];
      if (value !== undefined) redactor.add(value);
    }
    // The app's command line is public (/proc/<pid>/cmdline): its words are never masks (R10).
    log = createLogger({
      level: handover.logLevel,
      format: handover.logFormat,
      redactor,
      known: handover.argv,
    });
    // process.env hides names such as "0": the app's environment comes from the kernel's copy.
    const env = environmentObject();
    const appOnly = takeAppOnlyVariables(env);
    const stopped = await router.lastCheck({ disarm: false });
    if (stopped !== undefined) throw stoppedBy(stopped);
    return await superviseChild({
      path: handover.path,
      argv: handover.argv,
      env: { ...env, ...appOnly },
      stopTimeoutMs: handover.stopTimeoutMs,
      router,
      log,
      terminal: handover.terminal,
      appCoreDumpFilter: handover.coreDumpFilter,
      ...(handover.owner === undefined ? {} : { owner: handover.owner }),
    });
  } catch (error) {
    const failure = asSecretwrapError(error);
    reportError(log, failure, consequenceOf("run", failure));
    return failure.exitCode;
  } finally {
    // The app has exited: its secret files are no longer needed by anyone.
    if (secretsDir !== undefined) rmSync(secretsDir, { recursive: true, force: true });
  }
}
