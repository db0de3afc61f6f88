// The first thing bin.ts runs, before any other module loads: what must hold for secretwrap's whole
// life is set up here, so no later code (or failure) can run without it.
import { writeFileSync } from "node:fs";
import { SignalRouter } from "../signals.ts";
import { disableCoreDumps } from "./coredump.ts";

export function prepareProcess(): SignalRouter {
  // Core dumps off first (a few µs): the signal listeners come right after, and a stop signal in
  // between still ends the run (default action, 128+N).
  const router = new SignalRouter({ appCoreDumpFilter: disableCoreDumps() });
  router.install();
  nameProcess();
  return router;
}

/**
 * `ps` shows a process's comm; Node 24 names its main thread "MainThread". Written through /proc
 * (not process.title, which would also overwrite /proc/<pid>/cmdline, the argv users and tests
 * read). execve gives the app its own name.
 */
function nameProcess(): void {
  try {
    writeFileSync("/proc/self/comm", "secretwrap");
  } catch {
    // no /proc: the name is cosmetic
  }
}
