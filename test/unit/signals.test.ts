// src/signals.ts SignalRouter.lastCheck, in a process of its own (it installs real signal listeners):
// a stop signal caught during the synchronous stretch before the app starts is seen by the last
// check, also when that stretch ran in the event loop's poll phase (an I/O callback), where one
// setImmediate would run before libuv's signal pipe is read again.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { NODE24, REPO } from "../helpers/nodes.ts";

const SCRIPT = `
import { readFile } from "node:fs";
const { SignalRouter } = await import(process.argv[1]);
const router = new SignalRouter();
router.install();
readFile(process.argv[1], async () => {
  process.kill(process.pid, "SIGHUP");
  const until = Date.now() + 5;
  while (Date.now() < until) {} // the synchronous stretch: files written, env built, exec checked
  process.stdout.write(String(await router.lastCheck({ disarm: false })));
  process.exit(0);
});
`;

describe("SignalRouter.lastCheck", () => {
  it("R3: sees a stop signal caught during a synchronous stretch that ran in the poll phase", () => {
    const seen = execFileSync(NODE24.bin, ["--input-type=module", "-e", SCRIPT, `${REPO}/src/signals.ts`], {
      encoding: "utf8",
    });
    expect(seen).toBe("SIGHUP");
  });

  it("R3: sees a stop signal caught after the last poll and before the disarm (read from libuv's pipe)", () => {
    // The stop arrives inside the disarm itself, just before the listener goes: its message is in
    // libuv's pipe, and no loop turn will ever read it before the execve.
    const inWindow = `
const { SignalRouter } = await import(process.argv[1]);
const router = new SignalRouter();
router.install();
const removeListener = process.removeListener.bind(process);
let sent = false;
process.removeListener = (event, listener) => {
  if (!sent && event === "SIGTERM") {
    sent = true;
    process.kill(process.pid, "SIGTERM");
  }
  return removeListener(event, listener);
};
process.stdout.write(String(await router.lastCheck({ disarm: true })));
process.exit(0);
`;
    const seen = execFileSync(NODE24.bin, ["--input-type=module", "-e", inWindow, `${REPO}/src/signals.ts`], {
      encoding: "utf8",
    });
    expect(seen).toBe("SIGTERM");
  });
});
