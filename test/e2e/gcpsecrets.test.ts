// ref+gcpsecrets end to end: the built CLI (bin/secretwrap) with the real @google-cloud/secret-manager
// client over real HTTP against test/servers/gcp.ts, logging in through the metadata server (GCE, GKE
// Workload Identity, Cloud Run) or a service account key file. With SECRETWRAP_TEST_GCP_PROJECT set,
// the resolution case runs against Google with this process's credentials; the fault cases need the
// fake's fault injection and request log and are skipped.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, reportedSecretsDirs, runCli, type CliResult } from "../helpers/cli.ts";
import { crc32c } from "../../providers/gcpsecrets/crc32c.ts";
import { FakeGcp, googleError } from "../servers/gcp.ts";
import { fakeBackend, REAL_GCP_PROJECT, realBackend, type GcpBackend } from "../servers/gcp-real.ts";
import { reply } from "../servers/harness.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-gcp-"));
const REAL = REAL_GCP_PROJECT !== undefined;
const fakeOnly = REAL ? it.skip : it;
if (!REAL)
  console.info(
    "gcpsecrets e2e: SECRETWRAP_TEST_GCP_PROJECT is not set; running against the local fake Google only",
  );
let fake: FakeGcp;
const backends: GcpBackend[] = [];
/** The exec-mode runs' secrets dirs, removed after the suite. */
const shmDirs = new Set<string>();

beforeAll(async () => {
  fake = await FakeGcp.start();
});
afterAll(async () => {
  for (const b of backends) await b.cleanup();
  await fake.close();
  rmSync(work, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  fake.api.clearFaults();
  fake.metadata.clearFaults();
});

const scratch = scratchDirs(work);

const home = (): string => join(work, "home");
const metadataEnv = (): Record<string, string> => ({
  HOME: home(),
  GCE_METADATA_HOST: `127.0.0.1:${fake.metadata.port}`,
});

function keyEnv(dir: string, key: object): Record<string, string> {
  writeFileSync(join(dir, "key.json"), JSON.stringify(key));
  return {
    HOME: home(),
    GOOGLE_APPLICATION_CREDENTIALS: join(dir, "key.json"),
    METADATA_SERVER_DETECTION: "none",
  };
}

async function run(
  dir: string,
  backend: GcpBackend,
  secrets: Record<string, string>,
  extraArgs: string[] = [],
): Promise<CliResult & { out: string }> {
  const config = join(dir, "secretwrap.json");
  writeFileSync(config, JSON.stringify({ version: 1, providers: { gcpsecrets: backend.options }, secrets }));
  const out = join(dir, "probe.jsonl");
  const result = await runCli(
    ["run", "--config", config, "--log-level", "debug", ...extraArgs, "--", "node", PROBE, "--exit", "0"],
    {
      env: { ...backend.env, PROBE_OUT: out },
      cwd: dir,
      timeoutMs: 60_000,
    },
  );
  for (const secretsDir of reportedSecretsDirs(out)) shmDirs.add(secretsDir);
  return { ...result, out };
}

/** Every credential and value this run knew, none of which may be printed. */
function leaks(result: CliResult, secrets: readonly string[]): string[] {
  return scanForCanaries([...secrets, ...fake.issuedTokens], {
    texts: { stdout: result.stdout, stderr: result.stderr },
  }).map((h) => `${h.where}`);
}

describe.each(REAL ? ["real Google"] : ["metadata server", "service account key"])(
  "acceptance 1: 20 secrets via %s",
  (login) => {
    it("latest, pinned, regional and JSON fields resolve to the right bytes; one token per run", async () => {
      const dir = scratch();
      const key = fake.serviceAccountKey();
      const backend =
        REAL_GCP_PROJECT !== undefined
          ? realBackend(REAL_GCP_PROJECT)
          : fakeBackend(fake, login === "metadata server" ? metadataEnv() : keyEnv(dir, key));
      backends.push(backend);
      const p = backend.project;
      const expected: Record<string, string> = {};
      const secrets: Record<string, string> = {};
      const values: string[] = [];
      for (let i = 0; i < 6; i++) {
        const value = canary(`LATEST${i}`);
        const id = await backend.seed([canary("OLD"), value]);
        [secrets[`LATEST_${i}`], expected[`LATEST_${i}`]] = [`ref+gcpsecrets://${p}/${id}`, value];
        values.push(value);
      }
      for (let i = 0; i < 5; i++) {
        const first = canary(`PINNED${i}`);
        const id = await backend.seed([first, canary("NEWER")]);
        [secrets[`PINNED_${i}`], expected[`PINNED_${i}`]] = [`ref+gcpsecrets://${p}/${id}?version=1`, first];
        values.push(first);
      }
      for (let i = 0; i < 4; i++) {
        const value = canary(`REGIONAL${i}`);
        const id = await backend.seed([value], "europe-west1");
        [secrets[`REGIONAL_${i}`], expected[`REGIONAL_${i}`]] = [
          `ref+gcpsecrets://${p}/${id}?location=europe-west1`,
          value,
        ];
        values.push(value);
      }
      const password = canary("JSONPW");
      const json = await backend.seed([
        JSON.stringify({ user: "app", password, db: { host: "db.internal", port: 5432 } }),
      ]);
      Object.assign(secrets, {
        DB_USER: `ref+gcpsecrets://${p}/${json}#user`,
        DB_PASSWORD: `ref+gcpsecrets://${p}/${json}#password`,
        DB_HOST: `ref+gcpsecrets://${p}/${json}#/db/host`,
        DB_PORT: `ref+gcpsecrets://${p}/${json}#/db/port`,
      });
      Object.assign(expected, {
        DB_USER: "app",
        DB_PASSWORD: password,
        DB_HOST: "db.internal",
        DB_PORT: "5432",
      });
      values.push(password);
      const blob = canary("FILE");
      const fileSecret = await backend.seed([blob]);
      secrets["TLS_KEY_FILE"] = `ref+gcpsecrets://${p}/${fileSecret}`;
      values.push(blob);
      expect(Object.keys(secrets)).toHaveLength(20);

      const before = {
        access: fake.accessCount(),
        tokens: fake.tokenRequests(),
        metadata: fake.metadata.requests.length,
        api: fake.api.requests.length,
      };
      const result = await run(dir, backend, secrets);
      expect(result.stderr).not.toContain("error");
      expect(result.code).toBe(0);
      const env = probeStart(readProbe(result.out)).env ?? {};
      for (const [name, value] of Object.entries(expected)) expect(env[name], name).toBe(value);
      const file = probeStart(readProbe(result.out)).files?.["TLS_KEY_FILE"];
      expect(Buffer.from(file?.base64 ?? "", "base64").toString()).toBe(blob);
      expect(leaks(result, [...values, key.private_key])).toEqual([]);
      if (REAL) return;
      // 17 distinct secret versions (the four JSON fields share one fetch), one request each.
      expect(fake.accessCount() - before.access).toBe(17);
      const bearers = new Set(fake.api.requests.slice(before.api).map((r) => r.headers["authorization"]));
      expect(bearers.size).toBe(1);
      if (login === "metadata server") expect(fake.tokenRequests() - before.tokens).toBe(1);
      else expect(fake.metadata.requests.length - before.metadata).toBe(0);
    });
  },
);

describe("acceptance 2: faults through the CLI", () => {
  fakeOnly("a payload failing its CRC32C check is fetched again and then succeeds", async () => {
    const dir = scratch();
    const backend = fakeBackend(fake, metadataEnv());
    const value = canary("CRC");
    const id = await backend.seed([value]);
    const corrupted = `${value.slice(0, -1)}X`;
    fake.api.script(
      (r) => r.path.includes(`/${id}/`),
      [
        reply(200, {
          name: `projects/my-proj/secrets/${id}/versions/1`,
          payload: {
            data: Buffer.from(corrupted).toString("base64"),
            dataCrc32c: String(crc32c(Buffer.from(value))),
          },
        }),
      ],
    );
    const result = await run(dir, backend, { CRC: `ref+gcpsecrets://my-proj/${id}` });
    expect(result.code).toBe(0);
    expect(probeStart(readProbe(result.out)).env?.["CRC"]).toBe(value);
    expect(fake.accessCount(`projects/my-proj/secrets/${id}/versions/latest`)).toBe(2);
    expect(leaks(result, [value, corrupted])).toEqual([]);
  });

  fakeOnly(
    "not found is 69 and permission denied is 77, each after one request, naming the reference",
    async () => {
      const dir = scratch();
      const backend = fakeBackend(fake, metadataEnv());
      const missing = await run(dir, backend, { GONE: "ref+gcpsecrets://my-proj/does-not-exist" });
      expect(missing.code).toBe(69);
      expect(missing.stderr).toContain("ref+gcpsecrets://my-proj/does-not-exist");
      expect(fake.accessCount("projects/my-proj/secrets/does-not-exist/versions/latest")).toBe(1);
      const value = canary("DENIED");
      const id = await backend.seed([value]);
      fake.deny("my-proj", id);
      const denied = await run(dir, backend, { DENIED: `ref+gcpsecrets://my-proj/${id}` });
      expect(denied.code).toBe(77);
      expect(denied.stderr).toContain("roles/secretmanager.secretAccessor");
      expect(fake.accessCount(`projects/my-proj/secrets/${id}/versions/latest`)).toBe(1);
      expect(leaks(denied, [value])).toEqual([]);
    },
  );

  fakeOnly(
    "UNAVAILABLE forever and a hung server end with 69 within the deadline; the token never shows",
    async () => {
      const dir = scratch();
      const deadline = ["--timeout", "4s", "--attempt-timeout", "1s"];
      const backend = fakeBackend(fake, metadataEnv());
      const down = await backend.seed([canary("DOWN")]);
      fake.api.script(
        (r) => r.path.includes(`/${down}/`),
        [{ kind: "reply", reply: googleError(503, "UNAVAILABLE", "The service is currently unavailable.") }],
        { forever: true },
      );
      const unavailable = await run(dir, backend, { DOWN: `ref+gcpsecrets://my-proj/${down}` }, deadline);
      expect(unavailable.code).toBe(69);
      expect(unavailable.durationMs).toBeLessThan(4000 + 5000);
      expect(fake.accessCount(`projects/my-proj/secrets/${down}/versions/latest`)).toBeGreaterThan(1);
      const hung = await backend.seed([canary("HUNG")]);
      fake.api.script((r) => r.path.includes(`/${hung}/`), [{ kind: "hang" }], { forever: true });
      const hanging = await run(dir, backend, { HUNG: `ref+gcpsecrets://my-proj/${hung}` }, deadline);
      expect(hanging.code).toBe(69);
      expect(hanging.durationMs).toBeLessThan(4000 + 5000);
      expect(fake.accessCount(`projects/my-proj/secrets/${hung}/versions/latest`)).toBeGreaterThanOrEqual(2);
      expect(leaks(unavailable, [])).toEqual([]);
      expect(leaks(hanging, [])).toEqual([]);
      console.info(
        `gcpsecrets e2e: unavailable-forever exit after ${unavailable.durationMs} ms, hung server after ${hanging.durationMs} ms (--timeout 4s)`,
      );
    },
  );
});
