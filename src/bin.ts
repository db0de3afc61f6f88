// Entry point. Signal handlers go in before anything else is loaded (see signals.ts); the rest of
// secretwrap (src/core.ts) is imported only after that.
import { SignalRouter } from "./signals.ts";

const router = new SignalRouter();
router.install();

const { runEntry } = await import("./core.ts");
const code = await runEntry(router);
// Output is written synchronously, so exiting now loses nothing; idle SDK sockets must not hold the exit.
process.exit(code);
