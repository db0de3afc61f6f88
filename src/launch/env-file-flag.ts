// Node reads an `--env-file` (or `--env-file-if-exists`) from ANY of its arguments up to the first
// `--`, even after the script name: `secretwrap run --env-file app.env` makes Node apply a NODE_OPTIONS
// line of app.env to this very process before any JavaScript runs (it does not set the file's other
// variables then). Only the raw command line tells: process.argv cannot show where a `--` stood.
import { readFileSync } from "node:fs";

/** True when Node has read an env file named on this process's command line. */
export function nodeReadAnEnvFile(): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync("/proc/self/cmdline", "utf8");
  } catch {
    return false;
  }
  // argv[0] is Node; its own options, the script and the script's arguments follow.
  for (const arg of cmdline.split("\0").slice(1)) {
    if (arg === "--") return false;
    if (arg.startsWith("--env-file")) return true;
  }
  return false;
}
