import { describe, expect, it } from "vitest";
import { decodeHandover, type Handover } from "../../../src/exec/handover-schema.ts";

const valid: Handover = {
  path: "/usr/bin/node",
  argv: ["node", "server.js"],
  stopTimeoutMs: 10_000,
  terminal: false,
  secretsDir: "/dev/shm/secretwrap-x",
  owner: { uid: 1000, gid: 1000 },
  logLevel: "info",
  logFormat: "json",
  secretNames: ["DB_PASSWORD"],
};
const json = (patch: Record<string, unknown>): string => JSON.stringify({ ...valid, ...patch });

describe("decodeHandover", () => {
  it.each([
    ["not JSON", "{"],
    ["JSON null", "null"],
    ["an empty argument", ""],
    ["no path", json({ path: undefined })],
    ["an empty argv", json({ argv: [] })],
    ["a non-string in argv", json({ argv: ["node", 1] })],
    ["a negative stop timeout", json({ stopTimeoutMs: -1 })],
    ["a fractional stop timeout", json({ stopTimeoutMs: 1.5 })],
    ["a stop timeout past the timers' 2^31-1 ms (R13)", json({ stopTimeoutMs: 2 ** 31 })],
    ["terminal as a string", json({ terminal: "false" })],
    ["a numeric secrets dir", json({ secretsDir: 7 })],
    ["an owner without gid", json({ owner: { uid: 1 } })],
    ["a negative uid", json({ owner: { uid: -1, gid: 0 } })],
    ["an unknown log level", json({ logLevel: "trace" })],
    ["an unknown log format", json({ logFormat: "xml" })],
    ["secret names that are not strings", json({ secretNames: [1] })],
  ])("refuses %s as a usage error", (_what, text) => {
    expect(() => decodeHandover(text, "--secretwrap-supervisor")).toThrow(
      /secretwrap's own internal argument/,
    );
  });

  it("reads back what the resolving process wrote, with and without the optional parts", () => {
    expect(decodeHandover(JSON.stringify(valid), "--secretwrap-supervisor")).toEqual(valid);
    const { secretsDir: _dir, owner: _owner, ...minimal } = valid;
    expect(decodeHandover(JSON.stringify(minimal), "--secretwrap-supervisor")).toEqual(minimal);
  });
});
