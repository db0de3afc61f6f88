// Entry point. Signal handlers go in before anything else is loaded (see signals.ts); the rest of
// secretwrap is imported only after that.
import { SUPERVISOR_ARG } from "./exec/handover.ts";
import { SignalRouter } from "./signals.ts";

const router = new SignalRouter();
router.install();

if (process.argv[2] === SUPERVISOR_ARG) {
  // A --supervise run that has resolved its secrets, now slim (src/exec/supervisor.ts).
  const { runSupervisor } = await import("./exec/supervisor.ts");
  process.exit(await runSupervisor(process.argv[3] ?? "", router));
}

const [{ takeAppOnlyVariables }, { main }, { writeStderr, writeStdout }] = await Promise.all([
  import("./appenv.ts"),
  import("./main.ts"),
  import("./log.ts"),
]);
const appOnlyEnv = takeAppOnlyVariables(process.env);
const code = await main({
  argv: process.argv.slice(2),
  env: { ...process.env },
  appOnlyEnv,
  router,
  writeOut: writeStdout,
  writeErr: writeStderr,
  stdinIsTerminal: () => process.stdin.isTTY === true,
});
// Output is written synchronously, so exiting now loses nothing; idle SDK sockets must not hold the exit.
process.exit(code);
