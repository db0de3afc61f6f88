// The gcpsecrets version check of `run --watch` (Session.checkVersion), with the real
// @google-cloud/secret-manager client over real HTTP against test/servers/gcp.ts: new versions are
// written through the API (AddSecretVersion, by the real client: test/servers/gcp-writer.ts), and the
// fake counts metadata gets apart from access calls, so "no value downloaded" is a number here.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import type { Session } from "../../src/provider-api.ts";
import { validateOptions } from "../../providers/gcpsecrets/options.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { failureWithout, fetchRef, text, unique } from "../helpers/provider.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { FakeGcp, googleError, isolateFromHostGoogle } from "../servers/gcp.ts";
import { GcpWriter } from "../servers/gcp-writer.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("gcpsecrets");

const work = mkdtempSync(join(tmpdir(), "secretwrap-gcp-versions-"));
const EXTRA = canary("ECHO");
let restoreEnv: () => void = () => {};
let fake: FakeGcp;
let writer: GcpWriter;

beforeAll(async () => {
  restoreEnv = isolateFromHostGoogle();
  fake = await FakeGcp.start({ errorMessageExtra: EXTRA });
  writer = new GcpWriter(fake);
});
afterAll(async () => {
  await writer.close();
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => fake.api.clearFaults());

interface Harness {
  readonly session: Session;
  readonly logs: string[];
  readonly check: (raw: string) => Promise<string | undefined>;
}

/** A workload logged in with its own service account key (a self-signed JWT, no token endpoint). */
async function connect(): Promise<Harness> {
  const keyFile = join(work, `${unique("key")}.json`);
  writeFileSync(keyFile, JSON.stringify(fake.serviceAccountKey()));
  const env = {
    HOME: join(work, "home"),
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    METADATA_SERVER_DETECTION: "none",
  };
  const options = { endpoint: fake.api.url, allowHttp: true };
  expect(validateOptions(options)).toEqual([]);
  const { ctx, logs } = providerContext(env);
  const session = await provider.connect(options, ctx, AbortSignal.timeout(10_000));
  const checkVersion = session.checkVersion?.bind(session);
  if (checkVersion === undefined) throw new Error("gcpsecrets has no checkVersion");
  return { session, logs, check: (raw) => checkVersion(parseRef(raw), AbortSignal.timeout(5_000)) };
}

const failure = (promise: Promise<unknown>) => failureWithout(promise, EXTRA);
/** Every request the fake's API saw from now on: a counter per kind. */
function counter(): () => { gets: number; accesses: number; all: number } {
  const before = { gets: fake.versionGets(), accesses: fake.accessCount(), all: fake.api.requests.length };
  return () => ({
    gets: fake.versionGets() - before.gets,
    accesses: fake.accessCount() - before.accesses,
    all: fake.api.requests.length - before.all,
  });
}

describe("checkVersion (secretVersions.get, no payload)", () => {
  it("answers what the fetch served; after addVersion it changes and a fetch serves the new value; never an access call", async () => {
    const secret = unique("rotating");
    const [first, second] = [canary("V1"), canary("V2")];
    fake.addSecret("my-proj", secret, [first]);
    const { session, logs, check } = await connect();
    const refs = [`ref+gcpsecrets://my-proj/${secret}`, `ref+gcpsecrets://my-proj/${secret}?version=latest`];
    for (const ref of refs) {
      const fetched = await fetchRef(session, ref);
      expect([text(fetched.bytes), fetched.version]).toEqual([first, "1"]);
      const count = counter();
      expect(await check(ref)).toBe(fetched.version);
      expect(count()).toEqual({ gets: 1, accesses: 0, all: 1 });
    }
    // Unchanged: the same answer on every check, still without an access call.
    const unchanged = counter();
    for (let i = 0; i < 3; i++) expect(await check(refs[0] as string)).toBe("1");
    expect(unchanged()).toEqual({ gets: 3, accesses: 0, all: 3 });

    expect(await writer.addVersion("my-proj", secret, second)).toBe("2");
    const rotated = counter();
    for (const ref of refs) expect(await check(ref)).toBe("2");
    expect(rotated()).toEqual({ gets: 2, accesses: 0, all: 2 });
    const fetched = await fetchRef(session, refs[0] as string);
    expect([text(fetched.bytes), fetched.version]).toEqual([second, "2"]);
    // The metadata get named the version the client asked for, and the answer carried no payload.
    const get = fake.api.requests.filter((r) => r.method === "GET" && !r.path.includes(":access")).at(-1);
    expect(get?.path.split("?")[0]).toBe(`/v1/projects/my-proj/secrets/${secret}/versions/latest`);
    // Enums as numbers, as the REST client asks: the fake's int state was decoded without error.
    expect(get?.path).toMatch(/enum-encoding(=|%3D)int/);
    await session.close();
    expect(logs.join("\n")).not.toContain(first);
    expect(logs.join("\n")).not.toContain(second);
  });

  it("a pinned version answers itself with no request, and matches the fetch of that version", async () => {
    const secret = unique("pinned");
    fake.addSecret("my-proj", secret, ["one", "two", "three"]);
    const { session, check } = await connect();
    const count = counter();
    expect(await check(`ref+gcpsecrets://my-proj/${secret}?version=2`)).toBe("2");
    expect(await check(`ref+gcpsecrets://my-proj/${secret}?version=2&location=europe-west1`)).toBe("2");
    expect(count().all).toBe(0);
    expect((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?version=2`)).version).toBe("2");
    await session.close();
  });

  it("a regional secret is checked on its own resource name", async () => {
    const secret = unique("regional");
    fake.addSecret("my-proj", secret, ["r1"], "europe-west1");
    const { session, check } = await connect();
    const ref = `ref+gcpsecrets://my-proj/${secret}?location=europe-west1`;
    expect(await check(ref)).toBe((await fetchRef(session, ref)).version);
    await writer.addVersion("my-proj", secret, "r2", "europe-west1");
    expect(await check(ref)).toBe("2");
    expect(
      fake.versionGets(`projects/my-proj/locations/europe-west1/secrets/${secret}/versions/latest`),
    ).toBe(2);
    await session.close();
  });

  it("denied versions.get (only roles/secretmanager.secretAccessor): undefined once, then no request; one debug line; fetch still works", async () => {
    const [secret, other] = [unique("accessor-only"), unique("viewer-too")];
    const value = canary("ACCESSOR");
    fake.addSecret("my-proj", secret, [value]);
    fake.addSecret("my-proj", other, ["o1"]);
    fake.withhold("my-proj", secret, ["secretmanager.versions.get"]);
    const { session, logs, check } = await connect();
    const ref = `ref+gcpsecrets://my-proj/${secret}`;
    const count = counter();
    expect(await check(ref)).toBeUndefined();
    expect(count()).toEqual({ gets: 1, accesses: 0, all: 1 });
    expect(await check(ref)).toBeUndefined();
    expect(await check(`${ref}?version=latest`)).toBeUndefined();
    expect(count().all).toBe(1);
    // The refusal is the secret's, not the session's: another secret is still checked.
    expect(await check(`ref+gcpsecrets://my-proj/${other}`)).toBe("1");
    expect(text((await fetchRef(session, ref)).bytes)).toBe(value);
    const lines = logs.filter((l) => l.includes("secretmanager.versions.get"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`projects/my-proj/secrets/${secret}`);
    expect(logs.join("\n")).not.toContain(value);
    expect(logs.join("\n")).not.toContain(EXTRA);
    await session.close();
  });

  it("other failures are mapped as the fetch maps them: not found, refused token, transient 503, never server text", async () => {
    const secret = unique("failing");
    fake.addSecret("my-proj", secret, ["x"]);
    const { session, check } = await connect();
    const missing = await failure(check("ref+gcpsecrets://my-proj/never-created"));
    expect([missing.code, missing.transient]).toEqual(["SECRET_NOT_FOUND", false]);
    const isGet = (r: { path: string }) => r.path.includes(`/${secret}/versions/latest?`);
    fake.api.script(isGet, [
      { kind: "reply", reply: googleError(503, "UNAVAILABLE", `scripted ${EXTRA}`, { "retry-after": "2" }) },
      { kind: "reply", reply: googleError(401, "UNAUTHENTICATED", `scripted ${EXTRA}`) },
    ]);
    const busy = await failure(check(`ref+gcpsecrets://my-proj/${secret}`));
    expect([busy.code, busy.transient, busy.retryAfterMs]).toEqual(["FETCH_FAILED", true, 2000]);
    const rejected = await failure(check(`ref+gcpsecrets://my-proj/${secret}`));
    expect([rejected.code, rejected.transient]).toEqual(["AUTH_FAILED", false]);
    // A refusal that was not remembered as one: the next check asks again and answers.
    expect(await check(`ref+gcpsecrets://my-proj/${secret}`)).toBe("1");
    await session.close();
  });

  it("a disabled newest version is a new version: the check names it and the fetch that follows reports it", async () => {
    const secret = unique("disabled");
    fake.addSecret("my-proj", secret, ["good"]);
    const { session, check } = await connect();
    const ref = `ref+gcpsecrets://my-proj/${secret}`;
    await writer.addVersion("my-proj", secret, canary("BAD"));
    fake.setState("my-proj", secret, 2, "DISABLED");
    expect(await check(ref)).toBe("2");
    const e = await failure(fetchRef(session, ref));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", false]);
    // gax 5's REST errors drop the body, so FAILED_PRECONDITION shows as its HTTP status only.
    expect(e.message).toContain("HTTP 400");
    await session.close();
  });

  it("the descriptor declares the capability", async () => {
    const { descriptor } = await import("../../providers/gcpsecrets/descriptor.ts");
    expect(descriptor.capabilities.checkVersion).toBe(true);
  });
});

describe("the fake's write API (AddSecretVersion) checks what the real one checks", () => {
  it("a payload whose dataCrc32c does not match is refused, and the secret keeps its version", async () => {
    const secret = unique("crc");
    fake.addSecret("my-proj", secret, ["kept"]);
    const token = await issueToken();
    const answer = await fetch(`${fake.api.url}/v1/projects/my-proj/secrets/${secret}:addVersion`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: { data: Buffer.from("new").toString("base64"), dataCrc32c: "1" } }),
    });
    expect(answer.status).toBe(400);
    const { session, check } = await connect();
    expect(await check(`ref+gcpsecrets://my-proj/${secret}`)).toBe("1");
    await session.close();
  });
});

/** An access token from the fake's metadata server, as a GCE workload would get one. */
async function issueToken(): Promise<string> {
  const answer = await fetch(
    `${fake.metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`,
    {
      headers: { "metadata-flavor": "Google" },
    },
  );
  return ((await answer.json()) as { access_token: string }).access_token;
}
