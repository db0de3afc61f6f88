// What a new set of values changes, what --on-change does about it, and how --on-change is read.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRef } from "../../../src/config/ref.ts";
import type { Plan, Target } from "../../../src/plan.ts";
import { actionFor, changeBetween } from "../../../src/watch/change.ts";
import { parseOnChange, type OnChange } from "../../../src/watch/options.ts";

const ref = parseRef("ref+file:///x");
const target = (name: string, kind: "env" | "file"): Target => ({
  name,
  ref,
  key: ref.raw,
  output: kind === "env" ? { kind } : { kind, fileName: name, mode: 0o400 },
  optional: true,
  source: "test",
});
const plan: Plan = {
  fetches: new Map([[ref.raw, ref]]),
  targets: [target("E", "env"), target("F", "file"), target("G", "file")],
  schemes: [],
};
const values = (entries: Record<string, string>): Map<string, Uint8Array> =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

describe("changeBetween", () => {
  it.each([
    [{ E: "1", F: "1" }, { E: "1", F: "1" }, [], false, false],
    [{ E: "1", F: "1" }, { E: "2", F: "1" }, ["E"], true, false],
    [{ E: "1", F: "1" }, { E: "1", F: "2" }, ["F"], false, true],
    [{ E: "1", F: "1" }, { E: "2", F: "2" }, ["E", "F"], true, true],
    [{ E: "1" }, { E: "1", G: "new" }, ["G"], false, true], // an optional secret appeared
    [{ E: "1", G: "old" }, { E: "1" }, ["G"], false, true], // and disappeared
  ])("%j → %j changes %j (env %s, files %s)", (before, after, names, env, files) => {
    expect(changeBetween(plan, values(before), values(after))).toEqual({ names, env, files });
  });

  it("bytes decide, not identity: equal content in new buffers is no change, any differing byte is", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const change = changeBetween(plan, new Map([["F", a]]), new Map([["F", b]]));
        expect(change.names.length === 0).toBe(Buffer.from(a).equals(b));
      }),
    );
  });
});

describe("actionFor", () => {
  const env = { names: ["E"], env: true, files: false };
  const files = { names: ["F"], env: false, files: true };
  const both = { names: ["E", "F"], env: true, files: true };
  it.each<[OnChange, typeof env, string, boolean]>([
    [{ kind: "auto" }, env, "restart", false],
    [{ kind: "auto" }, both, "restart", false],
    [{ kind: "auto" }, files, "signal:SIGHUP", false],
    [{ kind: "restart" }, files, "restart", false],
    [{ kind: "exit" }, files, "exit", false],
    [{ kind: "signal", signal: "SIGUSR1" }, files, "signal:SIGUSR1", false],
    [{ kind: "signal", signal: "SIGUSR1" }, env, "signal:SIGUSR1", true],
    [{ kind: "none" }, files, "nothing", false],
    [{ kind: "none" }, env, "nothing", true],
  ])("%j on %j → %s (warns that the app keeps an old value: %s)", (onChange, change, expected, warns) => {
    const { action, warning } = actionFor(onChange, change);
    expect(action.kind === "signal" ? `signal:${action.signal}` : action.kind).toBe(expected);
    expect(warning !== undefined).toBe(warns);
  });
});

describe("parseOnChange", () => {
  it.each([
    ["auto", "run", { kind: "auto" }],
    ["RESTART", "run", { kind: "restart" }],
    ["signal:usr1", "run", { kind: "signal", signal: "SIGUSR1" }],
    ["signal:SIGHUP", "run", { kind: "signal", signal: "SIGHUP" }],
    ["exit", "render", { kind: "exit" }],
    ["exec:kill -HUP 1", "render", { kind: "exec", command: "kill -HUP 1" }],
  ] as const)("%s for %s → %j", (text, command, value) => {
    expect(parseOnChange(text, command)).toEqual({ ok: true, value });
  });

  it.each([
    ["", "run"],
    ["signal:", "run"],
    ["signal:NOPE", "run"],
    ["signal:KILL", "run"], // cannot be a notification
    ["signal:STOP", "run"],
    ["exec:true", "run"], // run has an app to tell
    ["auto", "render"], // render has no app
    ["signal:HUP", "render"],
    ["exec:", "render"],
    ["exec:   ", "render"],
  ] as const)("%j for %s is refused with a reason", (text, command) => {
    const parsed = parseOnChange(text, command);
    expect(parsed.ok).toBe(false);
  });

  it("any text is a value or a reason, never an exception", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom("run" as const, "render" as const), (text, command) => {
        const parsed = parseOnChange(text, command);
        if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
      }),
    );
  });
});
