// What the process runs once bin.ts has its signal handlers in: the slim supervisor, when this is a
// --supervise run that has handed over (src/exec/handover.ts), or else the CLI (main.ts), given the
// caller's environment as the kernel holds it.
import { takeAppOnlyVariables } from "./appenv.ts";
import { SUPERVISOR_ARG } from "./exec/handover.ts";
import { environmentObject } from "./launch/environ.ts";
import { environmentProblem } from "./launch/environ-problem.ts";
import type { LaunchRefusal } from "./launch/relaunch.ts";
import { SecretwrapError } from "./errors.ts";
import { writeStderr, writeStdout } from "./log.ts";
import { main } from "./main.ts";
import type { SignalRouter } from "./signals.ts";

export async function runSupervisorOrCli(router: SignalRouter, refusal?: LaunchRefusal): Promise<number> {
  if (process.argv[2] === SUPERVISOR_ARG) {
    const { runSlimSupervisor } = await import("./exec/slim-supervisor.ts");
    return await runSlimSupervisor(process.argv[3] ?? "", router);
  }
  // The caller's environment from the kernel's copy: process.env hides names such as "0" (R1).
  const env = environmentObject();
  const appOnlyEnv = takeAppOnlyVariables(env);
  // Out of the real environment too: Node and OpenSSL read some of them there (getenv) when used.
  takeAppOnlyVariables(process.env);
  return await main({
    argv: process.argv.slice(2),
    env,
    appOnlyEnv,
    // Node could not be started again without its knobs (src/launch/relaunch.ts): refused as well.
    environmentProblem:
      environmentProblem() ??
      (refusal && new SecretwrapError(refusal.code, refusal.message, { hint: refusal.hint })),
    router,
    writeOut: writeStdout,
    writeErr: writeStderr,
    stdinIsTerminal: () => process.stdin.isTTY === true,
    // isatty(1), without loading Node's streams for process.stdout.
    stdoutIsTerminal: () => process.getBuiltinModule("node:tty").isatty(1),
  });
}
