// The executable's first module (the build's entry, dist/bin.js; the `secretwrap` bin). First, Node's
// own environment knobs meant for the app (NODE_OPTIONS, NODE_DEBUG, …) are kept out of this process:
// if one is set, Node starts again without it (src/launch/relaunch.ts). Then signal handlers go in
// before anything else is loaded (see signals.ts); the rest of secretwrap (src/core.ts, whose
// supervisor-or-cli.ts decides what this process is) is imported only after that.
import { relaunchWithoutNodeKnobs } from "./launch/relaunch.ts";
import { prepareProcess } from "./exec/prepare.ts";

const launch = relaunchWithoutNodeKnobs();
if (!launch.child) {
  // Signal listeners, no core dumps, the process name (src/exec/prepare.ts).
  const router = prepareProcess();

  const { runSupervisorOrCli } = await import("./core.ts");
  const code = await runSupervisorOrCli(router, launch.refusal);
  // Output is written synchronously, so exiting now loses nothing; idle SDK sockets must not hold the exit.
  process.exit(code);
}
