// The executable's first module (the build's entry, dist/bin.js; the `secretwrap` bin). First, Node's
// own environment knobs meant for the app (NODE_OPTIONS, NODE_DEBUG, …) are kept out of this process:
// if one is set, Node starts again without it (src/launch/relaunch.ts). Then signal handlers go in
// before anything else is loaded (see signals.ts); the rest of secretwrap (src/core.ts, whose
// supervisor-or-cli.ts decides what this process is) is imported only after that, with secretwrap's own
// compile cache on when it is there and safe (src/launch/compile-cache.ts).
import { enableOwnCompileCache } from "./launch/compile-cache.ts";
import { relaunchWithoutNodeKnobs } from "./launch/relaunch.ts";
import { prepareProcess } from "./exec/prepare.ts";
import { keepResidentSmall, looksLikeWatch } from "./watch/resident.ts";

// A watch stays resident for the app's life: V8 flags of this process only, before anything compiles
// (src/watch/resident.ts).
const watching = looksLikeWatch(process.argv.slice(2), process.env);
if (watching) keepResidentSmall();

const launch = relaunchWithoutNodeKnobs();
if (!launch.child) {
  // Here, not before the relaunch: only the process that goes on to run secretwrap uses it. Not for a
  // watch: Node keys the cache by V8's flags, so a watch's flags would fill a second copy of it, for a
  // start that happens once in the app's life.
  if (!watching) enableOwnCompileCache(import.meta.url);
  // Signal listeners, no core dumps, the process name (src/exec/prepare.ts).
  const router = prepareProcess();

  const { runSupervisorOrCli } = await import("./core.ts");
  const code = await runSupervisorOrCli(router, launch.refusal);
  // Output is written synchronously, so exiting now loses nothing; idle SDK sockets must not hold the exit.
  process.exit(code);
}
