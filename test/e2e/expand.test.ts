// Every key of a secret, end to end with the built CLI: the env-file form and the config form (env
// and files), over the file provider and the fake Vault's KV v2 (the example), under Node 24
// and Node 20. The app (the probe) reports what it really received; every output is scanned for the
// values, which are canaries; a clash fails with 78 before the app starts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, reportedSecretsDirs, runCli, type CliResult } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { sleep, startWatched, stopLeftovers, waitUntil } from "../fixtures/watch-run.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault } from "../servers/vault.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-expand-"));
const scratch = scratchDirs(work);
const shmDirs = new Set<string>();

// Values with what breaks quoting and lines; keys with what breaks names.
const V = {
  user: canary("USER"),
  password: `${canary("PASS")} it's "$HOME" \n second line`,
  apiKey: canary("APIKEY"),
  nested: canary("NESTED"),
  vaultPass: canary("VAULTPASS"),
};
const OBJECT = {
  user: V.user,
  "db-password": V.password,
  "api.key": V.apiKey,
  port: 5432,
  tls: { verify: true, name: V.nested },
  __proto__: "proto-key",
};
/** JSON text with `__proto__` as an own key (an object literal would set the prototype instead). */
const OBJECT_TEXT = JSON.stringify(OBJECT).replace(/}$/, ',"__proto__":"proto-key"}');

let vault: FakeVault;
let pki: TestPki;
let token: string;

beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  await vault.putKv("secret", "app/db", { username: "app", password: V.vaultPass, "max-conns": "10" });
  token = await vault.createToken(["secret/data/app/*"]);
});

afterEach(stopLeftovers);

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
  for (const dir of shmDirs) rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  readonly result: CliResult;
  readonly out: string;
  readonly dir: string;
}

async function cli(
  node: (typeof NODES)[number],
  args: readonly string[],
  files: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>> = {},
): Promise<Ran> {
  const dir = scratch();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out = join(dir, "probe.jsonl");
  const result = await runCli(args, {
    node,
    cwd: dir,
    env: { VAULT_ADDR: vault.url, VAULT_CACERT: pki.caFile, VAULT_TOKEN: token, PROBE_OUT: out, ...env },
  });
  for (const secretsDir of reportedSecretsDirs(out)) shmDirs.add(secretsDir);
  return { result, out, dir };
}

const RUN_PROBE = ["--", "node", PROBE, "--exit", "0"];

function noLeaks(ran: Ran, also: Readonly<Record<string, string>> = {}): void {
  const hits = scanForCanaries(Object.values(V), {
    texts: { stderr: ran.result.stderr, ...also },
  });
  expect(hits).toEqual([]);
}

describe.each(NODES)("every key of a secret ($name)", (node) => {
  it("env-file DB_*=: one variable per key, each value exact, names by the rule", async () => {
    const ran = await cli(node, ["run", "--env-file", ".env", ...RUN_PROBE], {
      "db.json": OBJECT_TEXT,
      ".env": "DB_*=ref+file://./db.json\n",
    });
    expect(ran.result.code, ran.result.stderr).toBe(0);
    const env = probeStart(readProbe(ran.out)).env ?? {};
    const expanded = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("DB_")));
    expect(expanded).toEqual({
      DB_USER: V.user,
      DB_DB_PASSWORD: V.password,
      DB_API_KEY: V.apiKey,
      DB_PORT: "5432",
      DB_TLS: JSON.stringify(OBJECT.tls),
      DB___PROTO__: "proto-key",
    });
    expect(ran.result.stderr).toMatch(/resolved DB_API_KEY .*from=DB_\*/);
    noLeaks(ran);
  });

  it("a plain value of an expanded name loses to the secret, with the precedence warning", async () => {
    const ran = await cli(
      node,
      ["run", "--env-file", ".env", ...RUN_PROBE],
      { "db.json": OBJECT_TEXT, ".env": "DB_USER=placeholder\nDB_*=ref+file://./db.json\n" },
      { DB_PORT: "1" },
    );
    expect(ran.result.code, ran.result.stderr).toBe(0);
    const env = probeStart(readProbe(ran.out)).env ?? {};
    expect([env["DB_USER"], env["DB_PORT"]]).toEqual([V.user, "5432"]);
    expect(ran.result.stderr).toMatch(
      /DB_USER: the secret declared in \.env:2 \(DB_\*\) replaces the value set in \.env:1/,
    );
    expect(ran.result.stderr).toMatch(
      /DB_PORT: the secret declared in \.env:2 \(DB_\*\) replaces the value inherited/,
    );
    noLeaks(ran);
  });

  it("config expand: true, file: true: one file per key with its mode, NAME_FILE holding its path", async () => {
    const config = `version: 1\nsecrets:\n  DB_: { ref: "ref+file://./db.json", expand: true, file: true, mode: "0440" }\n`;
    const ran = await cli(node, ["run", ...RUN_PROBE], { "db.json": OBJECT_TEXT, "secretwrap.yaml": config });
    expect(ran.result.code, ran.result.stderr).toBe(0);
    const start = probeStart(readProbe(ran.out));
    const files = start.files ?? {};
    expect(Object.keys(files).sort()).toEqual([
      "DB_API_KEY_FILE",
      "DB_DB_PASSWORD_FILE",
      "DB_PORT_FILE",
      "DB_TLS_FILE",
      "DB_USER_FILE",
      "DB___PROTO___FILE",
    ]);
    const password = files["DB_DB_PASSWORD_FILE"];
    expect(Buffer.from(password?.base64 ?? "", "base64").toString()).toBe(V.password);
    expect(password?.path).toMatch(/\/DB_DB_PASSWORD$/);
    expect(password?.mode).toBe("440");
    // The values are in the files, not in the environment.
    expect(JSON.stringify(start.env)).not.toContain(V.user);
    noLeaks(ran);
  });

  it("Vault KV v2 (the issue's example): env-file DB_*= gives every key of the secret", async () => {
    const ran = await cli(node, ["run", "--env-file", ".env", ...RUN_PROBE], {
      ".env": "DB_*=ref+vault://secret/app/db\n",
    });
    expect(ran.result.code, ran.result.stderr).toBe(0);
    const env = probeStart(readProbe(ran.out)).env ?? {};
    expect([env["DB_USERNAME"], env["DB_PASSWORD"], env["DB_MAX_CONNS"]]).toEqual(["app", V.vaultPass, "10"]);
    expect(env["VAULT_TOKEN"]).toBeUndefined();
    noLeaks(ran);
  });

  it("check --json lists the expanded names with their pattern, never a value", async () => {
    const ran = await cli(node, ["check", "--json", "--env-file", ".env"], {
      ".env": "DB_*=ref+vault://secret/app/db\n",
    });
    expect(ran.result.code, ran.result.stderr).toBe(0);
    const report = JSON.parse(ran.result.stdout) as {
      ok: boolean;
      secrets: { name: string; from?: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.secrets.map((s) => [s.name, s.from])).toEqual([
      ["DB_MAX_CONNS", "DB_*"],
      ["DB_PASSWORD", "DB_*"],
      ["DB_USERNAME", "DB_*"],
    ]);
    noLeaks(ran, { stdout: ran.result.stdout });
  });

  it("export and render deliver every key too", async () => {
    const files = { "db.json": OBJECT_TEXT, ".env": "DB_*=ref+file://./db.json\n" };
    const exported = await cli(node, ["export", "--format", "json", "--env-file", ".env"], files);
    expect(exported.result.code, exported.result.stderr).toBe(0);
    expect(JSON.parse(exported.result.stdout)).toMatchObject({ DB_USER: V.user, DB_DB_PASSWORD: V.password });
    noLeaks(exported);
    const outDir = join(scratch(), "out");
    const rendered = await cli(
      node,
      ["render", "--out", outDir, "--allow-disk", "--env-file", ".env"],
      files,
    );
    expect(rendered.result.code, rendered.result.stderr).toBe(0);
    expect(readFileSync(join(outDir, "DB_DB_PASSWORD"), "utf8")).toBe(V.password);
    expect(statSync(join(outDir, "DB_USER")).mode & 0o777).toBe(0o400);
    expect(
      readdirSync(outDir)
        .filter((f) => f.startsWith("DB_"))
        .sort(),
    ).toEqual(["DB_API_KEY", "DB_DB_PASSWORD", "DB_PORT", "DB_TLS", "DB_USER", "DB___PROTO__"]);
    noLeaks(rendered);
  });

  it.each([
    [
      "two keys giving one name",
      '{"db-user":"V1","DB_USER":"V2"}',
      "",
      /keys "db-user" and "DB_USER" give the same name DB_DB_USER/,
    ],
    [
      "a key giving another declaration's name",
      '{"user":"V1"}',
      "DB_USER=ref+file://./other\n",
      /key "user" gives DB_USER, which is taken by DB_USER/,
    ],
    ["a key giving a refused name", '{"_preload":"V1"}', "", /LD_PRELOAD changes how programs load code/],
  ])(
    "%s: 78, the app never starts, the keys are named and no value is shown",
    async (_, object, more, message) => {
      const secret = object.replace("V1", V.user).replace("V2", V.apiKey);
      const prefix = message.source.includes("LD_") ? "LD" : "DB_";
      const ran = await cli(node, ["run", "--env-file", ".env", ...RUN_PROBE], {
        "db.json": secret,
        other: V.nested,
        ".env": `${prefix}*=ref+file://./db.json\n${more}`,
      });
      expect(ran.result.code, ran.result.stderr).toBe(78);
      expect(existsSync(ran.out)).toBe(false);
      expect(ran.result.stderr).toMatch(message);
      noLeaks(ran, { stdout: ran.result.stdout });
    },
  );

  it("a secret that is not a JSON object: 69, naming the reference, never the value", async () => {
    const ran = await cli(node, ["run", "--env-file", ".env", ...RUN_PROBE], {
      "db.json": JSON.stringify([V.user]),
      ".env": "DB_*=ref+file://./db.json\n",
    });
    expect(ran.result.code, ran.result.stderr).toBe(69);
    expect(existsSync(ran.out)).toBe(false);
    expect(ran.result.stderr).toMatch(/DB_\* FIELD_MISSING: expand: true needs a JSON object/);
    expect(ran.result.stderr).toMatch(/ref\+file:\/\/\.\/db\.json/);
    noLeaks(ran);
  });

  it("run --watch: a new key restarts the app with its file and NAME_FILE; a rotation whose keys clash is refused and the app keeps its set", async () => {
    const dir = scratch();
    const source = join(dir, "db.json");
    const user = `v1 ${canary("WUSER")}`;
    const password = `v2 ${canary("WPASS")}`;
    writeFileSync(source, JSON.stringify({ user }));
    writeFileSync(join(dir, ".env"), "DB_*_FILE=ref+file://./db.json\n");
    const run = startWatched(
      dir,
      ["run", "--env-file", ".env", "--watch", "--refresh-interval", "500ms"],
      { PROBE_READ: "DB_USER_FILE,DB_PASSWORD_FILE" },
      ["--term-exit", "0"],
      { node },
    );
    const [first] = await run.waitFor("start");
    expect(first?.files?.["DB_USER_FILE"]?.tag).toBe("v1");
    expect(first?.paths?.["DB_PASSWORD_FILE"] ?? null).toBeNull();
    writeFileSync(source, JSON.stringify({ user, password }));
    const starts = await run.waitFor("start", 2);
    expect(starts[1]?.files?.["DB_PASSWORD_FILE"]?.tag).toBe("v2");
    expect(starts[1]?.files?.["DB_USER_FILE"]?.tag).toBe("v1");
    writeFileSync(source, JSON.stringify({ user: `v3 ${canary("WCLASH")}`, USER: password }));
    await waitUntil(
      () => `the refused rotation: ${run.stderr()}`,
      () =>
        /keys "user" and "USER" give the same name DB_USER.*the app keeps the values it has/.test(
          run.stderr(),
        ),
    );
    await sleep(700);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(run.of("start")).toHaveLength(2);
    expect(scanForCanaries([user, password], { texts: { stderr: result.stderr } })).toEqual([]);
  });
});
