// R7: secretwrap's own process must not dump core: it holds every secret and the bootstrap
// credentials. Node has no setrlimit or prctl, but /proc/self/coredump_filter (writable by the
// process itself, any uid) says which memory mappings a core holds; 0 means none, so a core, if the
// caller's RLIMIT_CORE and core_pattern allow one at all, holds only registers and notes — for file
// and pipe (systemd-coredump, apport) core_patterns alike. The filter is inherited across fork and
// kept across execve, so the caller's value is given back to the app right before its exec or
// spawn: the app's core dumps stay exactly as the caller set them.
import { readFileSync, writeFileSync } from "node:fs";

const FILTER = "/proc/self/coredump_filter";

/** Sets this process's filter to 0; returns the caller's value (undefined where /proc has none). */
export function disableCoreDumps(): string | undefined {
  let caller: string;
  try {
    caller = readFileSync(FILTER, "latin1").trim();
  } catch {
    return undefined; // not Linux, or no /proc: nothing to protect with
  }
  setCoreDumpFilter("0");
  // Read as hex digits ("00000033"), but written back as a C literal: "00000023" would be octal.
  return `0x${caller}`;
}

/** Writes the filter; a /proc that refuses it leaves nothing else to try. */
export function setCoreDumpFilter(value: string | undefined): void {
  if (value === undefined) return;
  try {
    writeFileSync(FILTER, value);
  } catch {
    // read-only /proc (some sandboxes): the caller's RLIMIT_CORE is then the only guard
  }
}

/** Runs `start` (a spawn) with the caller's filter, so the child inherits it; then 0 again. */
export function withAppCoreDumpFilter<T>(appFilter: string | undefined, start: () => T): T {
  if (appFilter === undefined) return start();
  setCoreDumpFilter(appFilter);
  try {
    return start();
  } finally {
    setCoreDumpFilter("0");
  }
}
