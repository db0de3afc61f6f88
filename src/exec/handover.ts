// --supervise on Node ≥ 22.15: once every secret is resolved, secretwrap replaces itself (execve,
// same PID) with a slim supervisor, the same Node running only src/exec/slim-supervisor.ts. The SDKs,
// parsed config and buffers of the resolving process would otherwise stay resident for the app's
// whole lifetime (~90 MB with a cloud SDK), and so would the bootstrap credentials in
// /proc/<pid>/environ. What is handed over is one JSON argument after SUPERVISOR_ARG, holding no
// secret: the command line, the secrets dir and the *names* of the secret variables, whose values
// travel in the environment the app gets anyway.
import { APP_ONLY_VARIABLES, LAUNCHER_PREFIX } from "../appenv.ts";
import { replaceProcess } from "./execve.ts";
import type { Handover } from "./handover-schema.ts";

export const SUPERVISOR_ARG = "--secretwrap-supervisor";

export function handOverToSupervisor(handover: Handover, appEnv: Readonly<Record<string, string>>): never {
  // Node would apply NODE_OPTIONS and its kin to the supervisor itself: move them aside as the
  // launch does (src/launch/relaunch.ts); the supervisor hands them back to the app. Null prototype:
  // a variable may be called __proto__.
  const env = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(appEnv)) {
    const appOnly = APP_ONLY_VARIABLES.includes(name);
    env[appOnly ? LAUNCHER_PREFIX + name : name] = value;
  }
  // A single executable is its own entry point; otherwise Node runs bin.js again.
  const isSea = process.getBuiltinModule("node:sea")?.isSea() === true;
  const entry = isSea ? [] : [process.argv[1] ?? ""];
  return replaceProcess(
    process.execPath,
    [process.execPath, ...entry, SUPERVISOR_ARG, JSON.stringify(handover)],
    env,
  );
}
