// An expanded secret (DB_*) under --watch (src/watch/watch.ts, change.ts): a rotation that adds,
// removes or changes keys is delivered with the plan of the new keys, as a change of env targets
// (restart under auto); a rotation whose keys clash is refused like any unusable value: the app keeps
// the whole set it has, a warning names the problem (never a value), and a later good rotation is
// delivered against what the app really has.
import { afterEach, describe, expect, it } from "vitest";
import { parseRef, type Ref } from "../../../src/config/ref.ts";
import { createLogger } from "../../../src/log.ts";
import { collectPlan, type Plan } from "../../../src/plan.ts";
import type { Fetched, Session } from "../../../src/provider-api.ts";
import type { Scheme } from "../../../src/provider.ts";
import { Redactor } from "../../../src/redact.ts";
import type { FetchOutcome } from "../../../src/resolve.ts";
import { DEFAULT_RETRY } from "../../../src/retry.ts";
import { targetValues } from "../../../src/target-values.ts";
import { actionFor, type Change } from "../../../src/watch/change.ts";
import { Watch } from "../../../src/watch/watch.ts";

const REF = "ref+file:///db.json";
const ref = parseRef(REF);

class Scripted implements Session {
  readonly consumedEnv = [];
  text = "{}";
  fetch(_ref: Ref): Promise<Fetched> {
    return Promise.resolve({ bytes: Buffer.from(this.text) });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Delivery {
  readonly change: Change;
  readonly names: string[];
  readonly values: Record<string, string>;
}

const running: Watch[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

function watched(first: object, files = false) {
  const { plan } = collectPlan([
    {
      name: files ? "DB_*_FILE" : "DB_*",
      ref,
      optional: false,
      source: "test",
      expand: { prefix: "DB_", files },
    },
  ]);
  const session = new Scripted();
  session.text = JSON.stringify(first);
  const redactor = new Redactor();
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "text", redactor, write: (line) => lines.push(line) });
  const outcomes = new Map<string, FetchOutcome>([
    [...plan.fetches.keys()].map((key) => [
      key,
      { ok: true, fetched: { bytes: Buffer.from(session.text) }, durationMs: 1 },
    ])[0] as [string, FetchOutcome],
  ]);
  const initial = targetValues(plan, outcomes, "run", redactor);
  const deliveries: Delivery[] = [];
  const watch = new Watch({
    plan,
    mode: "run",
    sessions: new Map<Scheme, Session>([["file", session]]),
    outcomes,
    delivered: initial.values,
    deliveredPlan: initial.plan,
    options: {
      refreshIntervalMs: 3_600_000,
      onChange: { kind: "auto" },
      onExpiry: "exit",
      revokeOnExit: false,
    },
    timeoutMs: 2_000,
    concurrency: 4,
    rules: { log, redactor, retry: DEFAULT_RETRY },
    log,
    deliver: (change, values, delivered: Plan) => {
      deliveries.push({
        change,
        names: delivered.targets.map((t) => t.name),
        values: Object.fromEntries([...values].map(([name, bytes]) => [name, Buffer.from(bytes).toString()])),
      });
      return Promise.resolve(undefined);
    },
    expired: () => {},
  });
  running.push(watch);
  /** The secret rotates to `object`; the watch reads it and delivers what changed. */
  const rotate = async (object: object | string): Promise<void> => {
    session.text = typeof object === "string" ? object : JSON.stringify(object);
    await watch.refreshNow();
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return { watch, rotate, deliveries, lines, initial };
}

describe("an expanded secret under --watch", () => {
  it("a new key is delivered with its target, as an env change (restart under auto)", async () => {
    const run = watched({ user: "u1" });
    expect(run.initial.plan.targets.map((t) => t.name)).toEqual(["DB_USER"]);
    await run.rotate({ user: "u1", password: "p2" });
    expect(run.deliveries).toHaveLength(1);
    const [delivery] = run.deliveries;
    expect(delivery?.names).toEqual(["DB_PASSWORD", "DB_USER"]);
    expect(delivery?.values).toEqual({ DB_PASSWORD: "p2", DB_USER: "u1" });
    expect(delivery?.change).toEqual({ names: ["DB_PASSWORD"], env: true, files: false });
    expect(actionFor({ kind: "auto" }, delivery?.change as Change).action).toEqual({ kind: "restart" });
  });

  it("a key that leaves the secret is a change too: its variable is gone", async () => {
    const run = watched({ user: "u1", password: "p1" });
    await run.rotate({ user: "u1" });
    expect(run.deliveries.map((d) => [d.names, d.change.names, d.change.env])).toEqual([
      [["DB_USER"], ["DB_PASSWORD"], true],
    ]);
  });

  it("with files, a key that appears changes the environment (its NAME_FILE) as well as the files", async () => {
    const run = watched({ user: "u1" }, true);
    await run.rotate({ user: "u1", password: "p2" });
    expect(run.deliveries[0]?.change).toEqual({ names: ["DB_PASSWORD_FILE"], env: true, files: true });
    // A value that changes under a key the app has is only a file swap (SIGHUP under auto).
    await run.rotate({ user: "u2", password: "p2" });
    expect(run.deliveries[1]?.change).toEqual({ names: ["DB_USER_FILE"], env: false, files: true });
  });

  it("a rotation whose keys clash keeps the whole old set, warns without a value, and a later good one is delivered", async () => {
    const run = watched({ user: "u1" });
    await run.rotate({ user: "CANARY_U2", USER: "CANARY_U3" });
    expect(run.deliveries).toEqual([]);
    const warning = run.lines.find((l) => l.includes("the app keeps the values it has"));
    expect(warning).toMatch(/keys "user" and "USER" give the same name DB_USER/);
    expect(run.lines.join("\n")).not.toMatch(/CANARY/);
    await run.rotate({ user: "u3" });
    expect(run.deliveries.map((d) => d.values)).toEqual([{ DB_USER: "u3" }]);
  });

  it("a rotation to something that is not an object keeps the old set too", async () => {
    const run = watched({ user: "u1" });
    await run.rotate("[1,2]");
    await run.rotate("{}");
    expect(run.deliveries).toEqual([]);
    expect(run.lines.filter((l) => l.includes("the app keeps the values it has"))).toHaveLength(2);
  });
});
