// The first code of secretwrap, in the npm bundle and the single executable alike. Node has already
// acted on its own environment knobs (NODE_OPTIONS, NODE_DEBUG, NODE_EXTRA_CA_CERTS, …: see
// node-knobs.ts) before this line runs, and no flag makes it ignore them; they are meant for the app.
// So when one is set, start Node again without them, moved to SECRETWRAP_APP_<NAME> (src/appenv.ts
// hands them back to the app unchanged): with process.execve (Node ≥ 22.15: same PID, nothing of this
// process remains), else as a child this process waits for, forwarding signals and exiting as it did.
// Nothing has been read or fetched yet, so what they did here (a NODE_OPTIONS preload runs once, in
// this launch phase) met no secret. Without such a variable nothing happens: start-up time matters.
import { SecretwrapError, type ErrorCode } from "../errors.ts";
import { checkExecLimits } from "../exec/exec-limits.ts";
import { nodeReadAnEnvFile } from "./env-file-flag.ts";
import { environmentObject, readRawEnviron, removeAddedByNode, unrepresentable } from "./environ.ts";
import { LAUNCH_KNOBS, LAUNCHER_PREFIX } from "./node-knobs.ts";
import { superviseRelaunch } from "./supervise-relaunch.ts";

/** Why Node could not be started again, as data: bin.js and core.js are separate bundles, each with
 *  its own SecretwrapError class. The run is refused with it (src/supervisor-or-cli.ts). */
export interface LaunchRefusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
}

export interface Launch {
  /** secretwrap runs in a child started here (Node without execve): this process only waits for it. */
  readonly child: boolean;
  /** This process is secretwrap's own, but the run must be refused. */
  readonly refusal?: LaunchRefusal;
}

const OWN: Launch = { child: false };

/** Does not return after execve. */
export function relaunchWithoutNodeKnobs(): Launch {
  const raw = readRawEnviron();
  // A variable Node could not represent cannot be handed on: stay, so that the run is refused
  // (src/supervisor-or-cli.ts) from the environment that still shows it, before anything is read or
  // fetched.
  if (raw !== undefined && unrepresentable(raw).length > 0) return OWN;
  // The knobs Node acted on. An `--env-file` that Node read out of secretwrap's own arguments may
  // have held a NODE_OPTIONS it applied without showing it in process.env: that starts Node again too.
  const present = LAUNCH_KNOBS.filter((name) => process.env[name] !== undefined);
  if (raw !== undefined) removeAddedByNode(raw, process.env);
  if (present.length === 0 && !nodeReadAnEnvFile()) return OWN;
  // A single executable ignores NODE_OPTIONS (build-sea.mjs), an env file's too, and its arguments
  // cannot take a `--` in front: neither is a reason to start it again (NODE_OPTIONS is still taken
  // out of its process.env for the app, src/appenv.ts).
  const isSea = process.getBuiltinModule("node:sea")?.isSea() === true;
  const acted = isSea ? present.filter((name) => name !== "NODE_OPTIONS") : present;
  if (acted.length === 0 && isSea) return OWN;
  // Already moved aside, yet here again: something put it back (Node's child_process re-adds
  // NODE_V8_COVERAGE to every child's environment). Starting again would never end.
  const back = acted.filter((name) => process.env[LAUNCHER_PREFIX + name] !== undefined);
  if (back.length > 0) {
    process.stderr.write(
      `secretwrap: error: internal error: ${back.join(", ")} came back after the launch\n`,
    );
    process.exit(70);
  }
  // The caller's own are kept for the app; what an env-file gave is secretwrap's to load again.
  const env = environmentObject(raw);
  for (const name of LAUNCH_KNOBS) {
    const value = env[name];
    if (value !== undefined) env[LAUNCHER_PREFIX + name] = value;
    delete env[name];
  }
  const argv = relaunchArgv(isSea);
  // The new names and the `--` add bytes: an environment that just fit Node's first start can be too
  // large for this one (Node 24's execve aborts with a native stack, Node 20's spawn fails E2BIG).
  // Stay, and the run is refused (src/supervisor-or-cli.ts) before anything is read or fetched.
  const refusal = relaunchLimitProblem(argv, env, acted);
  if (refusal !== undefined) return { child: false, refusal };
  // Node copies some of its own (NODE_V8_COVERAGE) from process.env into a child's environment.
  for (const name of LAUNCH_KNOBS) delete process.env[name];
  if (typeof process.execve === "function") process.execve(process.execPath, argv, env);
  superviseRelaunch(argv, env);
  return { child: true };
}

/** The exec-size rule of the app's exec (exec-limits.ts, same exit code: 69), for Node's own restart. */
function relaunchLimitProblem(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  acted: readonly string[],
): LaunchRefusal | undefined {
  try {
    checkExecLimits(process.execPath, argv, env, undefined, "starting Node again needs");
    return undefined;
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    return {
      code: error.code,
      message: `${acted.length > 0 ? acted.join(", ") : "NODE_OPTIONS of an --env-file"} must be kept out of secretwrap (moved to ${LAUNCHER_PREFIX}<NAME> for the app), but ${error.message}`,
      hint: "unset the largest variables the app does not need, or raise the stack limit (ulimit -s)",
    };
  }
}

/** The same program and arguments. `--` before the script keeps Node from reading an `--env-file`
 *  of secretwrap's own arguments. */
function relaunchArgv(isSea: boolean): string[] {
  // A single executable is its own entry point: everything after argv[1] is secretwrap's.
  if (isSea) return [process.execPath, ...process.argv.slice(2)];
  return [process.execPath, ...process.execArgv, "--", process.argv[1] ?? "", ...process.argv.slice(2)];
}
