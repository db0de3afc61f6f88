// Config templates end to end (issue 16): the built CLI renders config files with secrets inside from
// the file provider and from the GCP fake (real client, real HTTP), the app reads them; a missing secret
// is 69 with nothing rendered and no app; a template error is 78 with file:line:column; render --out and
// check --json; under run --watch a rotated secret re-renders the template and swaps it with the other
// files. stderr is scanned for the canaries at debug level in text and JSON (test/helpers/cli.ts scans
// every run's stderr too).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, readProbe, runCli } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { startWatched, stopLeftovers, waitUntil } from "../fixtures/watch-run.ts";
import { FakeGcp } from "../servers/gcp.ts";
import { fakeBackend } from "../servers/gcp-real.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-templates-"));
const scratch = scratchDirs(work);
/** render --out and the secrets dirs must be tmpfs: dirs of this test's own under /dev/shm. */
const shm = mkdtempSync("/dev/shm/secretwrap-test-templates-");
const shmDir = scratchDirs(shm);
let gcp: FakeGcp;

beforeAll(async () => {
  gcp = await FakeGcp.start();
});
afterEach(stopLeftovers);
afterAll(async () => {
  await gcp.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

/** A password that needs every filter's escaping, around a canary. */
const hostile = (label: string): string => `p"a'ss\\ $x\n${canary(label)}`;

const APP_TEMPLATE = [
  "db:",
  '  user: {{ ref "ref+file://./db.json#/user" }}',
  '  password: {{ ref "ref+file://./db.json#/password" | yaml }}',
  '  url: "postgres://app:{{ ref "ref+file://./db.json#/password" | url }}@db/app"',
  'json: {{ ref "ref+file://./db.json#/password" | json }}',
  'shell: {{ ref "ref+file://./db.json#/password" | base64 }}',
  'literal: "{{ "{{" }} stays"',
  "",
].join("\n");

function fileProviderConfig(dir: string, password: string): string {
  writeFileSync(join(dir, "db.json"), JSON.stringify({ user: "app", password }));
  writeFileSync(join(dir, "app.yml.tmpl"), APP_TEMPLATE);
  const config = join(dir, "secretwrap.yaml");
  writeFileSync(
    config,
    [
      "version: 1",
      "templates:",
      "  - source: ./app.yml.tmpl",
      "    target: app.yml",
      "    env: APP_CONFIG_FILE",
      "  - content: |",
      '      export PGPASSWORD={{ ref "ref+file://./db.json#/password" | shell }}',
      "    target: pg.env",
      '    mode: "0440"',
      "    env: PG_ENV_FILE",
      "",
    ].join("\n"),
  );
  return config;
}

describe("run: the app reads the rendered file (file provider)", () => {
  it.each(
    NODES.flatMap((node) => [
      { format: "text", node },
      { format: "json", node },
    ]),
  )(
    "every filter, file modes, a literal {{; no value on stderr at debug ($format logs, $node.name)",
    async ({ format, node }) => {
      const dir = scratch();
      const password = hostile("TPL");
      const config = fileProviderConfig(dir, password);
      const secretsDir = join(shmDir(), "s");
      const out = join(dir, "probe.jsonl");
      const result = await runCli(
        [
          "run",
          "--config",
          config,
          "--secrets-dir",
          secretsDir,
          "--log-level",
          "debug",
          "--log-format",
          format,
          "--",
          "node",
          PROBE,
          "--exit",
          "0",
        ],
        { cwd: dir, env: { PROBE_OUT: out }, node },
      );
      expect(result.code, result.stderr).toBe(0);
      const files = readProbe(out)[0]?.files ?? {};
      const app = Buffer.from(files["APP_CONFIG_FILE"]?.base64 ?? "", "base64").toString("utf8");
      expect(files["APP_CONFIG_FILE"]).toMatchObject({ path: join(secretsDir, "app.yml"), mode: "400" });
      expect(files["PG_ENV_FILE"]).toMatchObject({ path: join(secretsDir, "pg.env"), mode: "440" });
      const parsed = parseYaml(app) as Record<string, unknown>;
      expect(parsed).toEqual({
        db: {
          user: "app",
          password,
          url: `postgres://app:${encodeURIComponent(password).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}@db/app`,
        },
        json: password,
        shell: Buffer.from(password).toString("base64"),
        literal: "{{ stays",
      });
      // The shell file, sourced by sh, gives the password back.
      const pg = Buffer.from(files["PG_ENV_FILE"]?.base64 ?? "", "base64");
      writeFileSync(join(dir, "pg.env"), pg);
      const { spawnSync } = await import("node:child_process");
      const sourced = spawnSync("/bin/sh", ["-c", `. ${join(dir, "pg.env")}; printf %s "$PGPASSWORD"`], {
        encoding: "utf8",
        env: {},
      });
      expect(sourced.stdout).toBe(password);
      // The audit names the templates and their references, never a value.
      expect(result.stderr).toContain("template:app.yml");
      expect(
        scanForCanaries([password.slice(password.indexOf("CANARY"))], { texts: { stderr: result.stderr } }),
      ).toEqual([]);
      if (format === "json")
        for (const line of result.stderr.trim().split("\n"))
          expect(() => JSON.parse(line) as unknown).not.toThrow();
    },
  );

  it("a missing secret is 69: nothing rendered, the app not started", async () => {
    const dir = scratch();
    const config = fileProviderConfig(dir, hostile("MISSING"));
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        'ref+file://./db.json#/password" | shell',
        'ref+file://./gone.json" | shell',
      ),
    );
    const secretsDir = join(shmDir(), "s");
    const marker = join(dir, "started");
    const result = await runCli(
      ["run", "--config", config, "--secrets-dir", secretsDir, "--log-level", "debug", "--", "touch", marker],
      {
        cwd: dir,
      },
    );
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toMatch(/template:pg\.env SECRET_NOT_FOUND/);
    expect(result.stderr).toMatch(/the command was not started/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(secretsDir) ? readdirSync(secretsDir) : []).toEqual([]);
  });

  it("a value a filter refuses (not UTF-8 for json) is 69, named, nothing rendered", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "bin"), Buffer.concat([Buffer.from(canary("BIN")), Buffer.from([0xff])]));
    const config = join(dir, "secretwrap.yaml");
    writeFileSync(
      config,
      'version: 1\ntemplates:\n  - content: \'{"k": {{ ref "ref+file://./bin" | json }}}\'\n    target: k.json\n',
    );
    const secretsDir = join(shmDir(), "s");
    const result = await runCli(
      ["run", "--config", config, "--secrets-dir", secretsDir, "--log-level", "debug", "--", "true"],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toMatch(
      /template k\.json line 1, column 7: the value of ref\+file:\/\/\.\/bin is not valid UTF-8; the json filter cannot carry it/,
    );
    expect(existsSync(secretsDir) ? readdirSync(secretsDir) : []).toEqual([]);
  });

  it("a template error is 78 with file:line:column, every one of them, before any fetch", async () => {
    const dir = scratch();
    const config = fileProviderConfig(dir, hostile("SYNTAX"));
    writeFileSync(
      join(dir, "app.yml.tmpl"),
      'a: {{ ref "ref+file://./db.json#/user" | jsn }}\nb: {{ env "HOME" }}\nc: {{ ref "ref+file://./db.json#/user"\n',
    );
    const marker = join(dir, "started");
    const result = await runCli(["run", "--config", config, "--", "touch", marker], { cwd: dir });
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toMatch(
      /app\.yml\.tmpl:1:42: unknown filter "jsn" \(templates\[0\] in \S*secretwrap\.yaml\)/,
    );
    expect(result.stderr).toMatch(/app\.yml\.tmpl:2:7: unknown function "env"/);
    expect(result.stderr).toMatch(/app\.yml\.tmpl:3:4: \{\{ is not closed/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("render and check", () => {
  it("render --out writes the templates with the other files; check --json lists them with their references, never a value", async () => {
    const dir = scratch();
    const password = hostile("RENDER");
    const config = fileProviderConfig(dir, password);
    const out = join(shmDir(), "out");
    const rendered = await runCli(["render", "--config", config, "--out", out], { cwd: dir });
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(
      readdirSync(out)
        .filter((f) => !f.startsWith("."))
        .sort(),
    ).toEqual(["app.yml", "pg.env"]);
    expect(statSync(join(out, "app.yml")).mode & 0o777).toBe(0o400);
    expect((parseYaml(readFileSync(join(out, "app.yml"), "utf8")) as { json: string }).json).toBe(password);

    const checked = await runCli(["check", "--config", config, "--json"], { cwd: dir });
    expect(checked.code, checked.stderr).toBe(0);
    const report = JSON.parse(checked.stdout) as {
      ok: boolean;
      secrets: { name: string; target: string; refs?: string[]; status: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.secrets.map((s) => [s.name, s.target, s.refs, s.status])).toEqual([
      [
        "template:app.yml",
        "file:app.yml",
        ["ref+file://./db.json#/user", "ref+file://./db.json#/password"],
        "ok",
      ],
      ["template:pg.env", "file:pg.env", ["ref+file://./db.json#/password"], "ok"],
    ]);
    expect(
      scanForCanaries([password.slice(password.indexOf("CANARY"))], { texts: { stdout: checked.stdout } }),
    ).toEqual([]);
  });
});

describe("run with a cloud provider (GCP fake, real client over HTTP)", () => {
  it("a template's gcpsecrets references are fetched once with the declared secret and rendered", async () => {
    const dir = scratch();
    const backend = fakeBackend(gcp, {
      HOME: join(work, "home"),
      GCE_METADATA_HOST: `127.0.0.1:${gcp.metadata.port}`,
    });
    const apiKey = canary("GCPKEY");
    const db = { user: "app", password: hostile("GCPDB") };
    const keyId = await backend.seed([apiKey]);
    const dbId = await backend.seed([JSON.stringify(db)]);
    const config = join(dir, "secretwrap.yaml");
    writeFileSync(
      config,
      [
        "version: 1",
        `providers: { gcpsecrets: { endpoint: "${gcp.api.url}" } }`,
        "secrets:",
        `  API_KEY: ref+gcpsecrets://my-proj/${keyId}`,
        "templates:",
        "  - content: |",
        `      {"user": {{ ref "ref+gcpsecrets://my-proj/${dbId}#user" | json }}, "password": {{ ref "ref+gcpsecrets://my-proj/${dbId}#password" | json }},`,
        `       "key": {{ ref "ref+gcpsecrets://my-proj/${keyId}" | json }}}`,
        "    target: app.json",
        "    env: APP_JSON_FILE",
        "",
      ].join("\n"),
    );
    const accessesBefore = gcp.api.requests.filter((r) => r.path.includes(":access")).length;
    const out = join(dir, "probe.jsonl");
    const result = await runCli(
      [
        "run",
        "--config",
        config,
        "--secrets-dir",
        join(shmDir(), "s"),
        "--log-level",
        "debug",
        "--",
        "node",
        PROBE,
        "--exit",
        "0",
      ],
      { cwd: dir, env: { ...backend.env, PROBE_OUT: out }, timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const record = readProbe(out)[0];
    const app = Buffer.from(record?.files?.["APP_JSON_FILE"]?.base64 ?? "", "base64").toString("utf8");
    expect(JSON.parse(app)).toEqual({ ...db, key: apiKey });
    expect(record?.env?.["API_KEY"]).toBe(apiKey);
    // Two secrets, two reads: the template's use of the declared one did not fetch it again.
    expect(gcp.api.requests.filter((r) => r.path.includes(":access")).length - accessesBefore).toBe(2);
    const canaries = [apiKey, db.password.slice(db.password.indexOf("CANARY")), ...gcp.issuedTokens];
    expect(scanForCanaries(canaries, { texts: { stderr: result.stderr } })).toEqual([]);
  });
});

describe("run --watch: a rotated secret re-renders the template", () => {
  it(
    "the file provider's rewrite swaps the templated file through ..data and the app gets one SIGHUP",
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const local = join(dir, "token");
      writeFileSync(local, `v1 ${canary("WATCH")}`);
      const config = join(dir, "secretwrap.yaml");
      writeFileSync(
        config,
        'version: 1\ntemplates:\n  - content: "{{ ref \\"ref+file://./token\\" }}\\nport: 8080\\n"\n    target: app.conf\n    env: APP_CONF_FILE\n',
      );
      const run = startWatched(
        dir,
        [
          "run",
          "--config",
          config,
          "--secrets-dir",
          join(shmDir(), "s"),
          "--watch",
          "--refresh-interval",
          "500ms",
        ],
        {
          PROBE_READ: "APP_CONF_FILE",
        },
      );
      const [start] = await run.waitFor("start");
      expect(start?.files?.["APP_CONF_FILE"]?.tag).toBe("v1");
      const path = start?.paths?.["APP_CONF_FILE"] ?? "";
      const rotated = `v2 ${canary("WATCH")}`;
      writeFileSync(local, rotated);
      const [read] = await run.waitFor("read", 1, 30_000);
      expect(read?.files?.["APP_CONF_FILE"]?.tag).toBe("v2");
      expect(run.of("signal", "SIGHUP")).toHaveLength(1);
      expect(readFileSync(path, "utf8")).toBe(`${rotated}\nport: 8080\n`);
      // The audit line follows the delivery.
      await waitUntil("the rotated audit line", () => /rotated template:app\.conf/.test(run.stderr()));
      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(0);
    },
  );
});

describe("render --watch: a rotated secret re-renders the template in --out", () => {
  it(
    "the rendered file behind its stable path changes to the new value; TERM ends it with 0",
    { timeout: 60_000 },
    async () => {
      const dir = scratch();
      writeFileSync(join(dir, "token"), `v1 ${canary("RENDERWATCH")}`);
      const config = join(dir, "secretwrap.yaml");
      writeFileSync(
        config,
        'version: 1\ntemplates:\n  - content: "token: {{ ref \\"ref+file://./token\\" | trim | json }}\\n"\n    target: app.yml\n',
      );
      const out = join(shmDir(), "out");
      const run = startWatched(
        dir,
        ["render", "--config", config, "--watch", "--out", out, "--refresh-interval", "300ms"],
        {},
        null,
      );
      const path = join(out, "app.yml");
      const read = (): string => (existsSync(path) ? readFileSync(path, "utf8") : "");
      const until = async (pattern: RegExp): Promise<void> => {
        const deadline = Date.now() + 20_000;
        while (!pattern.test(read())) {
          if (Date.now() > deadline)
            throw new Error(`${String(pattern)} not in ${path}; stderr:\n${run.stderr()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until(/^token: "v1 CANARY_/);
      writeFileSync(join(dir, "token"), `  v2 ${canary("RENDERWATCH")}\n`);
      await until(/^token: "v2 CANARY_\w+"\n$/);
      await waitUntil("the rotated audit line", () => /rotated template:app\.yml/.test(run.stderr()));
      run.kill("SIGTERM");
      expect((await run.result).code).toBe(0);
    },
  );
});
