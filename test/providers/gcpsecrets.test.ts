// The gcpsecrets provider with the real @google-cloud/secret-manager client (REST transport) and
// google-auth-library over real HTTP(S) against test/servers/gcp.ts, which checks every bearer token
// and self-signed JWT as Google does. Calls connect/fetch directly; the CLI path, and the run against
// a real project when SECRETWRAP_TEST_GCP_PROJECT is set, are in test/e2e/gcpsecrets.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SecretwrapError } from "../../src/errors.ts";
import type { Session } from "../../src/provider-api.ts";
import { crc32c } from "../../providers/gcpsecrets/crc32c.ts";
import { credentialSource } from "../../providers/gcpsecrets/credentials.ts";
import { defaultHost } from "../../providers/gcpsecrets/target.ts";
import { canary } from "../helpers/canary.ts";
import { providerContext } from "../helpers/context.ts";
import { failureWithout, fetchRef, text, unique } from "../helpers/provider.ts";
import { validateOptions } from "../../providers/gcpsecrets/options.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { FakeGcp, googleError, isolateFromHostGoogle } from "../servers/gcp.ts";
import { reply, type Fault } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("gcpsecrets");

const work = mkdtempSync(join(tmpdir(), "secretwrap-gcp-provider-"));
const EXTRA = canary("ECHO");
let restoreEnv: () => void = () => {};
let fake: FakeGcp;
let pki: TestPki;

beforeAll(async () => {
  restoreEnv = isolateFromHostGoogle();
  fake = await FakeGcp.start({ errorMessageExtra: EXTRA });
  pki = createTestPki();
});
afterAll(async () => {
  await fake.close();
  restoreEnv();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  fake.api.clearFaults();
  fake.metadata.clearFaults();
});

/** The environment of a pod with Workload Identity (or any GCE VM): only the metadata server. */
const metadataEnv = (): Record<string, string> => ({
  HOME: join(work, "home"),
  GCE_METADATA_HOST: `127.0.0.1:${fake.metadata.port}`,
});

function keyFileEnv(key: object = fake.serviceAccountKey()): Record<string, string> {
  const path = join(work, `key-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(key));
  return {
    HOME: join(work, "home"),
    GOOGLE_APPLICATION_CREDENTIALS: path,
    METADATA_SERVER_DETECTION: "none",
  };
}

interface Harness {
  readonly session: Session;
  readonly secrets: string[];
}

async function connect(
  env: Record<string, string>,
  options: object = { endpoint: fake.api.url },
  attemptTimeoutMs = 5000,
): Promise<Harness> {
  const { ctx, masked: secrets } = providerContext(env, attemptTimeoutMs);
  expect(validateOptions(options)).toEqual([]);
  const session = await provider.connect(options, ctx, AbortSignal.timeout(10_000));
  return { session, secrets };
}

const failure = (promise: Promise<unknown>) => failureWithout(promise, EXTRA);
const apiFault = (http: number, status: string, headers?: Record<string, string>): Fault => ({
  kind: "reply",
  reply: googleError(http, status, `scripted ${status} ${EXTRA}`, headers),
});

describe("credentials (Application Default Credentials)", () => {
  it("metadata server: one token request, Metadata-Flavor sent, the token is masked and the API accepts it", async () => {
    const secret = unique("md");
    fake.addSecret("my-proj", secret, ["one"]);
    const tokensBefore = fake.tokenRequests();
    const { session, secrets } = await connect(metadataEnv());
    for (let i = 0; i < 5; i++)
      expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("one");
    await session.close();
    expect(fake.tokenRequests() - tokensBefore).toBe(1);
    const token = [...fake.issuedTokens].at(-1) as string;
    expect(secrets).toContain(token);
    expect(fake.metadata.requests.every((r) => r.headers["metadata-flavor"] === "Google")).toBe(true);
    expect(session.consumedEnv).toEqual([]);
  });

  it("a token renewed while the session lives (a --watch run outlives it) is masked like the first", async () => {
    const secret = unique("md-renew");
    fake.addSecret("my-proj", secret, ["one"]);
    const tokensBefore = fake.tokenRequests();
    // inside the auth library's eager-refresh window: each request takes a new token
    fake.tokenLifetimeSec = 60;
    try {
      const { session, secrets } = await connect(metadataEnv());
      for (let i = 0; i < 3; i++)
        expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("one");
      await session.close();
      expect(fake.tokenRequests() - tokensBefore).toBeGreaterThan(1);
      const issued = [...fake.issuedTokens].slice(-(fake.tokenRequests() - tokensBefore));
      for (const token of issued) expect(secrets).toContain(token);
    } finally {
      fake.tokenLifetimeSec = 3599;
    }
  });

  it("service account key: signs its own JWT (no token endpoint, no metadata), verified by the API; the key is masked", async () => {
    const secret = unique("sa");
    fake.addSecret("my-proj", secret, ["from-key"]);
    const key = fake.serviceAccountKey();
    const metadataBefore = fake.metadata.requests.length;
    const apiBefore = fake.api.requests.length;
    const { session, secrets } = await connect(keyFileEnv(key));
    for (let i = 0; i < 3; i++)
      expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("from-key");
    await session.close();
    expect(fake.metadata.requests.length).toBe(metadataBefore);
    const bearers = new Set(fake.api.requests.slice(apiBefore).map((r) => r.headers["authorization"]));
    expect(bearers.size).toBe(1);
    expect(secrets).toContain(key.private_key);
    expect(secrets.some((s) => `Bearer ${s}` === [...bearers][0])).toBe(true);
  });

  it("a key the API does not know is AUTH_FAILED (77) after one request, never retried", async () => {
    const stranger = { ...fake.serviceAccountKey(), private_key_id: "0".repeat(40) };
    const { session } = await connect(keyFileEnv(stranger));
    const before = fake.accessCount();
    const e = await failure(fetchRef(session, "ref+gcpsecrets://my-proj/anything"));
    expect([e.code, e.exitCode, e.transient]).toEqual(["AUTH_FAILED", 77, false]);
    expect(e.message).toContain("401");
    expect(fake.accessCount() - before).toBe(1);
    await session.close();
  });

  it("workload identity federation: the subject token goes to STS once; STS's token is masked and used", async () => {
    const secret = unique("wif");
    fake.addSecret("my-proj", secret, ["federated"]);
    const subject = canary("SUBJECT");
    const subjectFile = join(work, unique("subject"));
    writeFileSync(subjectFile, subject);
    const stsBefore = fake.sts.requests.length;
    const { session, secrets } = await connect(keyFileEnv(fake.externalAccount(subjectFile, subject)));
    expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("federated");
    expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?version=1`)).bytes)).toBe(
      "federated",
    );
    await session.close();
    const exchanges = fake.sts.requests.slice(stsBefore);
    expect(exchanges).toHaveLength(1);
    expect(new URLSearchParams(exchanges[0]?.body).get("subject_token")).toBe(subject);
    expect(secrets).toContain([...fake.issuedTokens].at(-1));
  });

  it("federation with a subject token STS rejects is AUTH_FAILED at login; a config file sending it over plain http elsewhere is refused", async () => {
    const subjectFile = join(work, unique("subject"));
    writeFileSync(subjectFile, "not-the-token");
    const config = fake.externalAccount(subjectFile, canary("SUBJECT"));
    const e = await failure(connect(keyFileEnv(config)));
    expect([e.code, e.exitCode, e.transient]).toEqual(["AUTH_FAILED", 77, false]);
    const remote = await failure(
      connect(keyFileEnv({ ...config, token_url: "http://sts.example.com/v1/token" })),
    );
    expect(remote.code).toBe("CONFIG_INVALID");
  });

  it("metadata token errors: 404 (no service account) is AUTH_FAILED, 503 is transient", async () => {
    fake.metadata.script(
      (r) => r.path.includes("/token"),
      [reply(404, "Not Found", { "metadata-flavor": "Google" })],
    );
    const missing = await failure(connect(metadataEnv()));
    expect([missing.code, missing.transient]).toEqual(["AUTH_FAILED", false]);
    fake.metadata.script(
      (r) => r.path.includes("/token"),
      [reply(503, "busy", { "metadata-flavor": "Google" })],
      { forever: true },
    );
    const before = fake.tokenRequests();
    const busy = await failure(connect(metadataEnv()));
    expect([busy.code, busy.transient]).toEqual(["FETCH_FAILED", true]);
    // gcp-metadata retries 5xx itself (gaxios default, 3 retries, about 2 s) and takes no option to stop.
    expect(fake.tokenRequests() - before).toBeLessThanOrEqual(4);
  });

  it("no credentials anywhere is AUTH_FAILED with a hint; a broken credentials file is CONFIG_INVALID without its content", async () => {
    const none = await failure(connect({ HOME: join(work, "home"), METADATA_SERVER_DETECTION: "none" }));
    expect([none.code, none.exitCode]).toEqual(["AUTH_FAILED", 77]);
    expect(none.hint).toContain("GOOGLE_APPLICATION_CREDENTIALS");
    const leaked = canary("KEYFILE");
    const broken = join(work, "broken.json");
    writeFileSync(broken, `{"type":"service_account","private_key":"${leaked}"`);
    const bad = await failure(connect({ GOOGLE_APPLICATION_CREDENTIALS: broken }));
    expect([bad.code, bad.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    expect(`${bad.message} ${bad.hint}`).not.toContain(leaked);
  });

  it("ADC order: config credentialsFile, GOOGLE_APPLICATION_CREDENTIALS, gcloud's file (CLOUDSDK_CONFIG or ~/.config/gcloud), then metadata", () => {
    const gcloud = join(work, "gcloud");
    mkdirSync(gcloud, { recursive: true });
    writeFileSync(join(gcloud, "application_default_credentials.json"), "{}");
    const home = join(work, "userhome");
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(join(home, ".config", "gcloud", "application_default_credentials.json"), "{}");
    expect(
      credentialSource({ credentialsFile: "/c.json" }, { GOOGLE_APPLICATION_CREDENTIALS: "/e.json" }),
    ).toMatchObject({ path: "/c.json" });
    expect(
      credentialSource({}, { GOOGLE_APPLICATION_CREDENTIALS: "/e.json", CLOUDSDK_CONFIG: gcloud }),
    ).toMatchObject({ path: "/e.json" });
    expect(credentialSource({}, { CLOUDSDK_CONFIG: gcloud, HOME: home })).toMatchObject({
      path: join(gcloud, "application_default_credentials.json"),
    });
    expect(credentialSource({}, { HOME: home })).toMatchObject({
      path: join(home, ".config", "gcloud", "application_default_credentials.json"),
    });
    expect(credentialSource({}, { HOME: work, GCE_METADATA_HOST: "10.0.0.1" })).toEqual({
      kind: "metadata",
      explicitHost: true,
    });
    expect(credentialSource({}, { HOME: work })).toEqual({ kind: "metadata", explicitHost: false });
  });
});

describe("references", () => {
  it("latest, pinned, regional and binary values are exact; the served version is reported", async () => {
    const secret = unique("ref");
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    fake.addSecret("my-proj", secret, ["first", binary]);
    fake.addSecret("my-proj", secret, ["in-europe"], "europe-west1");
    const { session } = await connect(metadataEnv());
    const latest = await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`);
    expect([Buffer.from(latest.bytes).equals(binary), latest.version]).toEqual([true, "2"]);
    const pinned = await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?version=1`);
    expect([text(pinned.bytes), pinned.version]).toEqual(["first", "1"]);
    const regional = await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?location=europe-west1`);
    expect(text(regional.bytes)).toBe("in-europe");
    await session.close();
    expect(fake.api.requests.at(-1)?.path).toBe(
      `/v1/projects/my-proj/locations/europe-west1/secrets/${secret}/versions/latest:access?$alt=json%3Benum-encoding=int`,
    );
    expect([defaultHost(undefined), defaultHost("europe-west1")]).toEqual([
      "secretmanager.googleapis.com",
      "secretmanager.europe-west1.rep.googleapis.com",
    ]);
  });

  it("CRC32C: the standard check value, a corrupted payload is transient, and the next attempt succeeds", async () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    const secret = unique("crc");
    const name = fake.addSecret("my-proj", secret, ["intact"]);
    const { session } = await connect(metadataEnv());
    fake.api.script(
      (r) => r.path.includes(`/${secret}/`),
      [
        reply(200, {
          name: `${name}/versions/1`,
          payload: {
            data: Buffer.from("intacT").toString("base64"),
            dataCrc32c: String(crc32c(Buffer.from("intact"))),
          },
        }),
      ],
    );
    const e = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", true]);
    expect(e.message).not.toContain("intac");
    expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("intact");
    // A version stored without a checksum has none to check.
    fake.api.script(
      (r) => r.path.includes(`/${secret}/`),
      [reply(200, { name: `${name}/versions/1`, payload: { data: Buffer.from("old").toString("base64") } })],
    );
    expect(text((await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).bytes)).toBe("old");
    await session.close();
  });
});

describe("errors: one request per attempt, the right code and transient flag, no server text", () => {
  it("NOT_FOUND (secret or version) is 69, PERMISSION_DENIED 77, a disabled version is not retried", async () => {
    const secret = unique("err");
    fake.addSecret("my-proj", secret, ["a", "b"]);
    fake.setState("my-proj", secret, 1, "DISABLED");
    const denied = unique("denied");
    fake.addSecret("my-proj", denied, ["x"]);
    fake.deny("my-proj", denied);
    const { session } = await connect(metadataEnv());
    const before = fake.accessCount();
    const missing = await failure(fetchRef(session, "ref+gcpsecrets://my-proj/never-created"));
    expect([missing.code, missing.exitCode, missing.transient]).toEqual(["SECRET_NOT_FOUND", 69, false]);
    const noVersion = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?version=9`));
    expect(noVersion.code).toBe("SECRET_NOT_FOUND");
    const forbidden = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${denied}`));
    expect([forbidden.code, forbidden.exitCode, forbidden.transient]).toEqual(["ACCESS_DENIED", 77, false]);
    expect(forbidden.hint).toContain("roles/secretmanager.secretAccessor");
    const disabled = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}?version=1`));
    expect([disabled.code, disabled.exitCode, disabled.transient]).toEqual(["FETCH_FAILED", 69, false]);
    expect(fake.accessCount() - before).toBe(4);
    await session.close();
  });

  it("UNAVAILABLE with Retry-After, RESOURCE_EXHAUSTED (429) and INTERNAL (500) are transient after exactly one request", async () => {
    const secret = unique("busy");
    fake.addSecret("my-proj", secret, ["v"]);
    const { session } = await connect(metadataEnv());
    const cases: [Fault, number | undefined][] = [
      [apiFault(503, "UNAVAILABLE", { "retry-after": "2" }), 2000],
      [apiFault(429, "RESOURCE_EXHAUSTED"), undefined],
      [apiFault(500, "INTERNAL"), undefined],
    ];
    for (const [fault, retryAfterMs] of cases) {
      fake.api.script((r) => r.path.includes(`/${secret}/`), [fault]);
      const before = fake.accessCount();
      const e = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`));
      expect([e.code, e.transient, e.retryAfterMs]).toEqual(["FETCH_FAILED", true, retryAfterMs]);
      expect(fake.accessCount() - before).toBe(1);
    }
    await session.close();
  });

  it("a hung request ends when the attempt's signal fires and its socket is closed; resets and torn bodies are transient", async () => {
    const secret = unique("hang");
    fake.addSecret("my-proj", secret, ["v"]);
    const { session } = await connect(metadataEnv());
    const baseline = fake.api.openConnections;
    fake.api.script((r) => r.path.includes(`/${secret}/`), [{ kind: "hang" }]);
    const started = Date.now();
    const hung = fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`, AbortSignal.timeout(300));
    await expect.poll(() => fake.api.openConnections, { timeout: 3000 }).toBe(baseline + 1);
    await expect(hung).rejects.toBeInstanceOf(SecretwrapError);
    expect(Date.now() - started).toBeLessThan(3000);
    // The signal reached the HTTP request: its socket is gone while the session is still open.
    await expect.poll(() => fake.api.openConnections, { timeout: 3000 }).toBe(baseline);
    await session.close();
    const again = await connect(metadataEnv());
    for (const fault of [{ kind: "reset" }, { kind: "resetAfterBytes", bytes: 20 }] as Fault[]) {
      fake.api.script((r) => r.path.includes(`/${secret}/`), [fault]);
      const e = await failure(fetchRef(again.session, `ref+gcpsecrets://my-proj/${secret}`));
      expect([e.code, e.transient]).toEqual(["FETCH_FAILED", true]);
    }
    await again.session.close();
  });
});

describe("R18: a misbehaving server never gets credentials elsewhere or an empty secret through", () => {
  it("R18: a redirect (301, 302, 303, 307, 308) is a failure, never followed: the other host sees no request and no token", async () => {
    const secret = unique("redirect");
    fake.addSecret("my-proj", secret, ["v"]);
    const seen: (string | undefined)[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ name: "x/versions/1", payload: { data: "c3RvbGVu" } }));
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as AddressInfo).port;
    try {
      for (const env of [metadataEnv(), keyFileEnv()]) {
        const { session } = await connect(env);
        for (const status of [301, 302, 303, 307, 308]) {
          fake.api.script(
            (r) => r.path.includes(`/${secret}/`),
            [
              reply(status, undefined, {
                location: `http://127.0.0.1:${port}/v1/projects/my-proj/secrets/x/versions/latest:access`,
              }),
            ],
          );
          const e = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`));
          expect([e.code, e.exitCode, e.transient], String(status)).toEqual(["FETCH_FAILED", 69, false]);
          expect(e.message).toContain("redirect");
        }
        await session.close();
      }
      expect(seen).toEqual([]);
    } finally {
      other.close();
    }
  });

  it("R18: a 200 reply without a payload is a failure, not an empty secret", async () => {
    const secret = unique("nopayload");
    fake.addSecret("my-proj", secret, ["v"]);
    const { session } = await connect(metadataEnv());
    for (const body of [{ name: `projects/1/secrets/${secret}/versions/1` }, { name: "x", payload: null }]) {
      fake.api.script((r) => r.path.includes(`/${secret}/`), [reply(200, body)]);
      const e = await failure(fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`));
      expect([e.code, e.exitCode, e.transient]).toEqual(["FETCH_FAILED", 69, false]);
      expect(e.message).toContain("no payload");
    }
    // an empty value inside a payload (proto3 JSON drops empty bytes) is still an empty secret
    fake.api.script(
      (r) => r.path.includes(`/${secret}/`),
      [reply(200, { name: "x/versions/1", payload: {} })],
    );
    expect(await fetchRef(session, `ref+gcpsecrets://my-proj/${secret}`)).toBeDefined();
    await session.close();
  });
});

describe("TLS and endpoints", () => {
  let tlsFake: FakeGcp | undefined;
  afterAll(async () => tlsFake?.close());

  it("https with caFile works; an untrusted, wrong-name or expired certificate fails verification, not retried", async () => {
    const serve = async (cert: TestPki["valid"]): Promise<FakeGcp> => {
      await tlsFake?.close();
      tlsFake = await FakeGcp.start({ tls: cert });
      tlsFake.addSecret("my-proj", "tls", ["over-tls"]);
      return tlsFake;
    };
    const key = (f: FakeGcp): Record<string, string> => keyFileEnv(f.serviceAccountKey());
    let f = await serve(pki.valid);
    const { session } = await connect(key(f), { endpoint: f.api.url, caFile: pki.caFile });
    expect(text((await fetchRef(session, "ref+gcpsecrets://my-proj/tls")).bytes)).toBe("over-tls");
    await session.close();
    const untrusted = await connect(key(f), { endpoint: f.api.url });
    const e = await failure(fetchRef(untrusted.session, "ref+gcpsecrets://my-proj/tls"));
    expect([e.code, e.transient]).toEqual(["FETCH_FAILED", false]);
    expect(e.message).toContain("TLS");
    await untrusted.session.close();
    for (const cert of [pki.wrongName, pki.expired]) {
      f = await serve(cert);
      const h = await connect(key(f), { endpoint: f.api.url, caFile: pki.caFile });
      const bad = await failure(fetchRef(h.session, "ref+gcpsecrets://my-proj/tls"));
      expect([bad.code, bad.transient, bad.message.includes("TLS")]).toEqual(["FETCH_FAILED", false, true]);
      await h.session.close();
    }
  });

  it("plain http to a non-loopback endpoint is refused unless allowHttp; options are strict", async () => {
    const e = await failure(connect(metadataEnv(), { endpoint: "http://10.1.2.3:8080" }));
    expect([e.code, e.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    const unknown = validateOptions({ endpoint: "x", region: "y" });
    expect(unknown.map((i) => i.message).join(" ")).toContain("region");
    expect(
      validateOptions({
        endpoint: "http://10.1.2.3",
        allowHttp: true,
        caFile: "/ca.pem",
        credentialsFile: "/k.json",
      }),
    ).toEqual([]);
  });
});
