// The file provider's version (Fetched.version and checkVersion, for `run --watch`): an HMAC of the
// content under a key made per session, so it changes exactly when the bytes do, and the audit line
// it is printed in cannot be turned back into a short secret by hashing guesses.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseRef } from "../../../src/config/ref.ts";
import { MAX_SECRET_BYTES, type Session } from "../../../src/provider-api.ts";
import { descriptor } from "../../../providers/file/descriptor.ts";
import { canary } from "../../helpers/canary.ts";
import { providerContext } from "../../helpers/context.ts";
import { failureWithout, fetchRef, text } from "../../helpers/provider.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-file-versions-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const provider = await descriptor.load();

interface Harness {
  readonly session: Session;
  check(path: string): Promise<string | undefined>;
  version(path: string): Promise<string | undefined>;
}

async function connect(): Promise<Harness> {
  const { ctx } = providerContext({});
  const session = await provider.connect({}, ctx, AbortSignal.timeout(5_000));
  const checkVersion = session.checkVersion?.bind(session);
  if (checkVersion === undefined) throw new Error("the file provider has no checkVersion");
  return {
    session,
    check: (path) => checkVersion(parseRef(`ref+file://${path}`), AbortSignal.timeout(5_000)),
    version: async (path) => (await fetchRef(session, `ref+file://${path}`)).version,
  };
}

let seq = 0;
function file(content: string | Uint8Array): string {
  const path = join(work, `secret-${++seq}`);
  writeFileSync(path, content);
  return path;
}

const sha256 = (value: string | Uint8Array): string => createHash("sha256").update(value).digest("hex");

it("the descriptor declares checkVersion", () => {
  expect(descriptor.capabilities.checkVersion).toBe(true);
});

describe("the version of a file secret", () => {
  it("is 16 hex digits; checkVersion equals Fetched.version", async () => {
    const path = file(canary("FILE"));
    const h = await connect();
    const version = await h.version(path);
    expect(version).toMatch(/^[0-9a-f]{16}$/);
    expect(await h.check(path)).toBe(version);
    await h.session.close();
  });

  it("stays the same while the content does, even when the file is rewritten or touched", async () => {
    const value = canary("SAME");
    const path = file(value);
    const h = await connect();
    const version = await h.version(path);
    writeFileSync(path, value);
    utimesSync(path, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    expect(await h.check(path)).toBe(version);
    expect(await h.version(path)).toBe(version);
    await h.session.close();
  });

  it("changes when the content changes, and the next fetch serves the new content under that version", async () => {
    const path = file(canary("OLD"));
    const h = await connect();
    const before = await h.version(path);
    const next = canary("NEW");
    writeFileSync(path, next);
    const seen = await h.check(path);
    expect(seen).not.toBe(before);
    const fetched = await fetchRef(h.session, `ref+file://${path}`);
    expect([text(fetched.bytes), fetched.version]).toEqual([next, seen]);
    // A one-byte change is a change too.
    writeFileSync(path, `${next.slice(0, -1)}x`);
    expect(await h.check(path)).not.toBe(seen);
    await h.session.close();
  });

  it("follows a Kubernetes-style ..data symlink swap", async () => {
    const dir = join(work, "volume");
    mkdirSync(join(dir, "v1"), { recursive: true });
    mkdirSync(join(dir, "v2"));
    writeFileSync(join(dir, "v1", "token"), canary("V1"));
    writeFileSync(join(dir, "v2", "token"), canary("V2"));
    symlinkSync("v1", join(dir, "..data"));
    symlinkSync(join("..data", "token"), join(dir, "token"));
    const h = await connect();
    const path = join(dir, "token");
    const before = await h.version(path);
    symlinkSync("v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    const after = await h.check(path);
    expect(after).not.toBe(before);
    expect(after).toBe(await h.version(path));
    await h.session.close();
  });

  it("is never a plain SHA-256 of the value (nor a prefix of one): a guess cannot be checked offline", async () => {
    for (const value of ["1234", "hunter2", "", canary("PLAIN")]) {
      const h = await connect();
      const version = await h.version(file(value));
      expect(version).toBeDefined();
      expect(sha256(value).startsWith(version ?? "")).toBe(false);
      expect(sha256(value)).not.toContain(version);
      await h.session.close();
    }
  });

  it("is keyed per session: one session gives equal contents equal versions, another session others", async () => {
    const value = "1234";
    const [a, b] = [file(value), file(value)];
    const first = await connect();
    const second = await connect();
    expect(await first.version(a)).toBe(await first.version(b));
    expect(await second.version(a)).toBe(await second.check(b));
    expect(await first.version(a)).not.toBe(await second.version(a));
    await first.session.close();
    await second.session.close();
  });
});

describe("checkVersion reads the file by fetch's rules, and never names its content", () => {
  it("a file that is gone is SECRET_NOT_FOUND", async () => {
    const value = canary("GONE");
    const path = file(value);
    const h = await connect();
    await h.version(path);
    rmSync(path);
    const e = await failureWithout(h.check(path), value);
    expect([e.code, e.message]).toEqual(["SECRET_NOT_FOUND", `${path} does not exist`]);
    await h.session.close();
  });

  it("a file grown past the size cap is refused without quoting it", async () => {
    const value = canary("BIG");
    const path = file(value);
    const h = await connect();
    writeFileSync(path, value.repeat(Math.ceil((MAX_SECRET_BYTES + 1) / value.length)));
    const e = await failureWithout(h.check(path), value);
    expect([e.code, e.message]).toEqual(["FETCH_FAILED", `${path} is larger than ${MAX_SECRET_BYTES} bytes`]);
    await h.session.close();
  });

  it("a directory or a FIFO swapped in is refused at once, never read or waited on", async () => {
    const value = canary("SWAP");
    const h = await connect();
    const dir = file(value);
    rmSync(dir);
    mkdirSync(dir);
    expect((await failureWithout(h.check(dir), value)).message).toBe(`${dir} is not a regular file`);
    const fifo = join(work, "fifo");
    execFileSync("mkfifo", [fifo]);
    const started = Date.now();
    expect((await failureWithout(h.check(fifo), value)).message).toBe(`${fifo} is not a regular file`);
    expect(Date.now() - started).toBeLessThan(1_000);
    await h.session.close();
  });
});
