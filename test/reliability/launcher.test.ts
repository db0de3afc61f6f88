// Issue 13, rules 1 and 6: between the caller and secretwrap's own JavaScript nothing filters or
// rewrites the environment (R1), and none of Node's own environment knobs acts inside the process that
// resolves secrets, while every one of them still reaches the app unchanged (R6). Every case runs the
// built CLI through bin/secretwrap under Node 24 (execve) and Node 20 (a launch parent supervises),
// with and without a knob that makes the first code start Node again.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isUtf8 } from "node:buffer";
import { dirname, join } from "node:path";
import { spawn } from "node:child_process";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ONLY_VARIABLES, LAUNCHER_PREFIX } from "../../src/appenv.ts";
import { parseEnviron } from "../../src/launch/environ.ts";
import { LAUNCH_KNOBS, NODE_KNOBS } from "../../src/launch/node-knobs.ts";
import { CLI, PROBE, probeStart, readProbe, runCli, startCli } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";
import { SEA, ensureSea } from "../container/images.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault } from "../servers/vault.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-rel-launcher-"));
const scratch = scratchDirs(work);

let vault: FakeVault;
let pki: TestPki;
beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  await vault.putKv("secret", "app/db", { password: "not-a-canary-db-password" });
});
afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
});

/** The app's whole environment, read raw: `env -0` as the app. */
function environOf(stdout: Buffer | string): Map<string, string> {
  const block = typeof stdout === "string" ? Buffer.from(stdout, "utf8") : stdout;
  return new Map(parseEnviron(block).map((v) => [v.name.toString("utf8"), v.value.toString("utf8")]));
}

/**
 * Values for every knob that are harmless while they act in the launch phase (Node applies them before
 * any JavaScript, so they must not break Node's own start) and recognisable where they arrive.
 */
function knobValues(dir: string): Record<string, string> {
  const emptyConf = join(dir, "openssl.cnf");
  writeFileSync(emptyConf, "");
  const special: Record<string, string> = {
    NODE_OPTIONS: "--no-deprecation",
    NODE_COMPILE_CACHE: join(dir, "compile-cache"),
    NODE_DEBUG: "net,http,tls,https,fetch,http2",
    NODE_DEBUG_NATIVE: "NONE",
    NODE_EXTRA_CA_CERTS: pki.caFile,
    NODE_ICU_DATA: join(dir, "icu"),
    NODE_PATH: join(dir, "node-path"),
    NODE_REDIRECT_WARNINGS: join(dir, "warnings.txt"),
    NODE_V8_COVERAGE: join(dir, "coverage"),
    OPENSSL_CONF: emptyConf,
    SSL_CERT_DIR: join(dir, "certs"),
    SSL_CERT_FILE: join(dir, "certs/ca.pem"),
    NODE_TLS_REJECT_UNAUTHORIZED: "1",
    TZ: "Pacific/Chatham",
    UV_THREADPOOL_SIZE: "7",
    NODE_REPL_HISTORY: join(dir, "repl history"),
  };
  return Object.fromEntries(Object.keys(NODE_KNOBS).map((name) => [name, special[name] ?? "1"]));
}

/** A name as the kernel allows it (no NUL, no '='), for a variable that declares nothing. */
const anyName = fc
  .array(
    fc.oneof(
      fc.constantFrom(".", "-", " ", "0", "9", "a", "Z", "_", "é", "€", "😀", "\t", "\n", "\u0085", ":", "$"),
      // Names that are also array indices or object machinery in JavaScript.
      fc.constantFrom("0", "42", "__proto__", "constructor", "toString", "length"),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(""))
  .filter(
    (name) =>
      !name.includes("=") &&
      !name.includes("\0") &&
      // secretwrap's own settings, the providers' variables and the harness's are not the app's alone.
      !/^(SECRETWRAP_|VAULT_|AWS_|GOOGLE_|GCE_|AZURE_|MSI_|IDENTITY_|PATH$|HOME$|LANG$)/i.test(name) &&
      !APP_ONLY_VARIABLES.includes(name),
  );
const anyValue = fc
  .string({ unit: "grapheme", maxLength: 40 })
  .map((value) => value.replace(/\0/g, ""))
  .filter((value) => !value.startsWith("ref+"));

describe.each(NODES)("R1 under $name: the environment reaches the app byte for byte", (node) => {
  it.each([
    ["without a Node knob (no second start)", {}, []],
    ["with NODE_OPTIONS set (Node starts again without it)", { NODE_OPTIONS: "--no-deprecation" }, []],
    ["under --supervise (the slim supervisor builds the app's environment)", {}, ["--supervise"]],
  ])(
    "R1: any variable name and value the kernel allows reaches the app unchanged, %s",
    async (_label, knob, mode) => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.tuple(anyName, anyValue), { minLength: 1, maxLength: 8, selector: ([n]) => n }),
          async (vars) => {
            const env = Object.fromEntries(vars);
            const result = await runCli(["run", ...mode, "--", "env", "-0"], {
              node,
              env: { ...env, ...knob },
            });
            expect(result.code, result.stderr).toBe(0);
            const app = environOf(result.stdout);
            for (const [name, value] of vars) expect(app.get(name), JSON.stringify(name)).toBe(value);
            for (const [name, value] of Object.entries(knob)) expect(app.get(name)).toBe(value);
          },
        ),
        {
          numRuns: 12,
          examples: [
            [
              [
                ["spring.datasource.url", "jdbc:x"],
                ["MY-VAR", "y"],
                ["1x", "z"],
                ["with space", ""],
                ["0", ""],
                ["42", "x"],
                ["__proto__", "p"],
                ["constructor", "c"],
              ],
            ],
          ],
        },
      );
    },
  );

  it.each([
    ["without a Node knob", {}],
    ["with NODE_OPTIONS set", { NODE_OPTIONS: "--no-deprecation" }],
  ])(
    "R1: a reference under any name is resolved (so a missing one fails the run), never dropped, %s",
    async (_label, knob) => {
      const dir = scratch();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.constantFrom("a.b", "MY-VAR", "spring.datasource.url", "1x", "with space"), anyName),
          async (name) => {
            const marker = join(dir, "started");
            const result = await runCli(["run", "--", "touch", marker], {
              node,
              env: { [name]: "ref+file:///nonexistent/secretwrap-r1", ...knob },
            });
            // 78 when the name cannot be a target, 69 when it could and the file is missing: never 0.
            expect([69, 78], result.stderr).toContain(result.code);
            expect(readdirSync(dir)).toEqual([]);
          },
        ),
        { numRuns: 8 },
      );
    },
  );

  it.each([
    ["a name", (bytes: string) => `${bytes}=1`],
    ["a value", (bytes: string) => `R1_VALUE=${bytes}`],
  ])(
    "R1: a variable whose %s is not UTF-8 refuses the run (78) instead of being dropped or rewritten",
    async (_what, entry) => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .uint8Array({ minLength: 1, maxLength: 6 })
            .filter((b) => !b.includes(0) && !b.includes(0x3d) && !isUtf8(b)),
          fc.boolean(),
          async (bytes, withKnob) => {
            const dir = scratch();
            const marker = join(dir, "started");
            // Node cannot put such bytes in an environment (spawn takes strings): printf and env can.
            // `--` because a name may start with "-", which env would read as an option.
            const octal = [...bytes].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
            const result = await runCli(["run", "--", "touch", marker], {
              node,
              prefix: [
                "sh",
                "-c",
                `exec env -- "$(printf '${entry(octal)}')" "$@"`,
                "sh",
                ...(withKnob ? ["NODE_OPTIONS=--no-deprecation"] : []),
              ],
            });
            expect(result.code, result.stderr).toBe(78);
            expect(result.stderr).toContain("cannot be passed on byte for byte");
            expect(readdirSync(dir)).toEqual([]);
          },
        ),
        // The leading "-" is the case CI's random seed found once (stop 20).
        { numRuns: 6, examples: [[Uint8Array.from([0x2d, 0x80]), false]] },
      );
    },
  );

  it("R1: a name the kernel holds twice with different values refuses the run (78, naming it, no value); identical duplicates collapse", async () => {
    // Neither Node nor env(1) can build such a block (both take a map): execve(2) itself can.
    const execWithEntries = [
      "import ctypes, json, os, sys",
      "entries = [f'{k}={v}' for k, v in os.environ.items()] + json.loads(sys.argv[1])",
      "args = sys.argv[2:]",
      "strings = lambda xs: (ctypes.c_char_p * (len(xs) + 1))(*[x.encode() for x in xs], None)",
      "ctypes.CDLL(None).execve(args[0].encode(), strings(args), strings(entries))",
      "sys.exit(127)",
    ].join("\n");
    const name = fc.constantFrom("A", "DUP", "a.b", "MY-VAR", "0");
    const value = fc.constantFrom("plain", "other", "ref+file:///nonexistent", "");
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, value), { minLength: 2, maxLength: 7 }),
        fc.boolean(),
        async (drawn, withKnob) => {
          const valuesOf = (n: string): Set<string> =>
            new Set(drawn.filter(([m]) => m === n).map(([, v]) => v));
          // A name whose values all agree is no reference: the run would fail on the missing file.
          const entries = drawn.map(([n, v]) => (valuesOf(n).size === 1 ? `${n}=same` : `${n}=${v}`));
          const conflicting = [...new Set(drawn.map(([n]) => n))].filter((n) => valuesOf(n).size > 1);
          const dir = scratch();
          const marker = join(dir, "started");
          const result = await runCli(["run", "--", "touch", marker], {
            node,
            env: withKnob ? { NODE_OPTIONS: "--no-deprecation" } : {},
            prefix: ["python3", "-c", execWithEntries, JSON.stringify(entries)],
          });
          if (conflicting.length === 0) {
            expect(result.code, result.stderr).toBe(0);
            expect(readdirSync(dir)).toEqual(["started"]);
            return;
          }
          expect(result.code, result.stderr).toBe(78);
          expect(result.stderr).toContain("cannot be passed on byte for byte");
          const named = /different values\): (.*?); the command/.exec(result.stderr)?.[1]?.split(", ");
          expect(new Set(named)).toEqual(new Set(conflicting));
          expect(result.stderr).not.toMatch(/plain|other|nonexistent/);
          expect(readdirSync(dir)).toEqual([]);
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe.each(NODES)("R1 under $name: the launch phase and signals", (node) => {
  it.each([
    ["without a Node knob", {}],
    ["while Node starts again without NODE_OPTIONS", { NODE_OPTIONS: "--no-deprecation" }],
  ])(
    "R1: a SIGTERM at any moment before the app exists ends the run with 143, %s (randomized, 20 trials)",
    async (_label, knob) => {
      // Vault never answers, so only the signal can end the run; the app would leave a marker.
      vault.server.script((r) => r.path.includes("/app/never"), [{ kind: "hang" }], { forever: true });
      const token = await vault.createToken(["secret/data/app/*"]);
      const outcomes: string[] = [];
      for (let trial = 0; trial < 20; trial++) {
        const dir = scratch();
        const marker = join(dir, "started");
        const running = startCli(["run", "--", "touch", marker], {
          node,
          env: {
            ...knob,
            VAULT_ADDR: vault.url,
            VAULT_CACERT: pki.caFile,
            VAULT_TOKEN: token,
            N: "ref+vault://secret/app/never#x",
            R1_TRIAL: dir,
          },
        });
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
        running.child.kill("SIGTERM");
        const result = await running.result;
        // Before Node's own start-up is over a default disposition ends it by the signal itself; a
        // shell sees 143 either way.
        const status = result.code ?? (result.signal === "SIGTERM" ? 143 : -1);
        if (status !== 143 || readdirSync(dir).length > 0) outcomes.push(`${result.code}/${result.signal}`);
        // Nothing of the run lives on (a launch parent killed alone would leave secretwrap resolving).
        const alive = await processesWith(`R1_TRIAL=${dir}`);
        if (alive.length > 0) outcomes.push(`left running: ${alive.join(" ")}`);
      }
      expect(outcomes).toEqual([]);
    },
  );
});

describe.each(NODES)("R6 under $name: Node's knobs act in the app, never in secretwrap", (node) => {
  it("R6: NODE_DEBUG=net,http,tls,https,fetch,http2 prints no request of secretwrap's (no X-Vault-Token), and reaches the app", async () => {
    const token = await vault.createToken(["secret/data/app/*"]);
    const debug = "net,http,tls,https,fetch,http2";
    const result = await runCli(["run", "--log-level", "debug", "--", "env", "-0"], {
      node,
      env: {
        VAULT_ADDR: vault.url,
        VAULT_CACERT: pki.caFile,
        VAULT_TOKEN: token,
        DB: "ref+vault://secret/app/db#password",
        NODE_DEBUG: debug,
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).not.toMatch(/x-vault-token/i);
    // Node's debug lines look like "NET 1234: …", "HTTP 1234: …", "TLS 1234: …".
    expect(result.stderr).not.toMatch(/^(NET|HTTP|HTTPS|TLS|FETCH|HTTP2) \d+:/m);
    expect(environOf(result.stdout).get("NODE_DEBUG")).toBe(debug);
  });

  it.each([
    ["in the caller's environment", "env"],
    ["in an --env-file, which Node itself reads out of secretwrap's arguments", "env-file"],
  ] as const)(
    "R6: a NODE_OPTIONS preload %s runs in secretwrap only in its launch phase, which does nothing but start Node again",
    async (_label, where) => {
      const dir = scratch();
      const preload = join(dir, "preload.cjs");
      const marks = join(dir, "marks.jsonl");
      // Every process the preload runs in says so, and says what it then execs or spawns: a preload
      // that ran where secretwrap resolves would see the hand-over or the app being started.
      writeFileSync(
        preload,
        `const fs = require("node:fs");
const cp = require("node:child_process");
const mark = (next) => fs.appendFileSync(${JSON.stringify(marks)}, JSON.stringify({ pid: process.pid, script: process.argv[1] ?? "", next }) + "\\n");
mark(null);
const execve = process.execve;
if (execve !== undefined) process.execve = (file, args, env) => (mark(args), execve.call(process, file, args, env));
const spawn = cp.spawn;
cp.spawn = function (file, args, ...rest) { mark([file, ...(Array.isArray(args) ? args : [])]); return spawn.call(this, file, args, ...rest); };
`,
      );
      const envFile = join(dir, "app.env");
      writeFileSync(envFile, `NODE_OPTIONS=--require ${preload}\n`);
      const out = join(dir, "probe.jsonl");
      const token = await vault.createToken(["secret/data/app/*"]);
      const options = where === "env-file" ? ["--env-file", envFile] : [];
      const args = ["run", "--supervise", ...options, "--", "node", PROBE, "--exit", "0"];
      const result = await runCli(args, {
        node,
        env: {
          PROBE_OUT: out,
          ...(where === "env" ? { NODE_OPTIONS: `--require ${preload}` } : {}),
          VAULT_ADDR: vault.url,
          VAULT_CACERT: pki.caFile,
          VAULT_TOKEN: token,
          DB: "ref+vault://secret/app/db#password",
        },
      });
      expect(result.code, result.stderr).toBe(0);
      const app = probeStart(readProbe(out));
      const seen = readFileSync(marks, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { pid: number; script: string; next: string[] | null });
      if (where === "env") {
        expect(app.env?.["NODE_OPTIONS"]).toBe(`--require ${preload}`);
        expect(seen.filter((m) => m.pid === app.pid)).toEqual([{ pid: app.pid, script: PROBE, next: null }]);
      }
      const launch = seen.filter((m) => m.pid !== app.pid);
      expect(launch.map((m) => m.pid)).toEqual([result.pid, result.pid]);
      expect(launch[0]?.script).toBe(CLI);
      // The launch phase's only act: Node again, on the same script and arguments.
      expect(launch[1]?.next?.slice(-args.length - 1)).toEqual([CLI, ...args]);
    },
  );

  it("R6: the process that resolves starts without any of Node's start-up knobs (read from its /proc environ while it waits on Vault)", async () => {
    const dir = scratch();
    const values = knobValues(dir);
    vault.server.script((r) => r.path.includes("/app/hang"), [{ kind: "hang" }], { forever: true });
    const running = startCli(["run", "--", "true"], {
      node,
      env: {
        ...values,
        VAULT_ADDR: vault.url,
        VAULT_CACERT: pki.caFile,
        VAULT_TOKEN: await vault.createToken(["secret/data/app/*"]),
        H: "ref+vault://secret/app/hang#x",
      },
    });
    try {
      const seen = vault.server.requests.length;
      await waitFor(() => vault.server.requests.slice(seen).some((r) => r.path.includes("/app/hang")));
      const resolver = node.hasExecve ? running.pid : onlyChild(running.pid);
      const environ = new Map(
        parseEnviron(readFileSync(`/proc/${resolver}/environ`)).map((v) => [
          v.name.toString("utf8"),
          v.value.toString("utf8"),
        ]),
      );
      for (const name of LAUNCH_KNOBS) {
        expect(environ.has(name), `${name} in the resolving process`).toBe(false);
        expect(environ.get(LAUNCHER_PREFIX + name), `${name} kept for the app`).toBe(values[name]);
      }
    } finally {
      running.child.kill("SIGTERM");
    }
    const result = await running.result;
    expect(result.code).toBe(143);
  });

  it("R6: every variable Node documents reaches the app unchanged, neutralised or not", async () => {
    const dir = scratch();
    const values = knobValues(dir);
    const result = await runCli(["run", "--", "env", "-0"], { node, env: values });
    expect(result.code, result.stderr).toBe(0);
    const app = environOf(result.stdout);
    for (const [name, value] of Object.entries(values)) expect(app.get(name), name).toBe(value);
    expect([...app.keys()].filter((name) => name.startsWith("SECRETWRAP_"))).toEqual([]);
  });
});

describe("R6 in the single executable: the same first code keeps Node's knobs out of it", () => {
  beforeAll(() => ensureSea(), 300_000);

  /** The executable as an image without Node would run it: Node 24 on PATH only for the app. */
  function runSea(args: readonly string[], env: Readonly<Record<string, string>>): Promise<SeaResult> {
    const child = spawn(SEA, args, {
      env: { PATH: `${dirname(NODE24.bin)}:/usr/bin:/bin`, HOME: "/root", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({ code, stdout: Buffer.concat(out), stderr, pid: child.pid ?? -1 }),
      );
    });
  }

  it("R6: NODE_DEBUG prints no request of secretwrap's, and every documented variable reaches the app unchanged", async () => {
    const dir = scratch();
    // Node refuses to start an executable that ignores NODE_OPTIONS while this one is set (below).
    const { NODE_REPL_EXTERNAL_MODULE: _repl, ...values } = knobValues(dir);
    const token = await vault.createToken(["secret/data/app/*"]);
    const result = await runSea(["run", "--", "env", "-0"], {
      ...values,
      VAULT_ADDR: vault.url,
      VAULT_CACERT: pki.caFile,
      VAULT_TOKEN: token,
      DB: "ref+vault://secret/app/db#password",
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).not.toMatch(/x-vault-token/i);
    expect(result.stderr).not.toMatch(/^(NET|HTTP|HTTPS|TLS|FETCH|HTTP2) \d+:/m);
    const app = environOf(result.stdout);
    for (const [name, value] of Object.entries(values)) expect(app.get(name), name).toBe(value);
    expect([...app.keys()].filter((name) => name.startsWith("SECRETWRAP_"))).toEqual([]);
  });

  it("R6: NODE_REPL_EXTERNAL_MODULE stops the executable in Node's own start-up (exit 9): nothing runs, nothing starts", async () => {
    const dir = scratch();
    const marker = join(dir, "started");
    const result = await runSea(["run", "--", "touch", marker], {
      NODE_REPL_EXTERNAL_MODULE: join(dir, "repl.js"),
    });
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("NODE_REPL_EXTERNAL_MODULE");
    expect(readdirSync(dir)).toEqual([]);
  });
});

interface SeaResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly pid: number;
}

/** Live processes whose environment holds `entry`, after giving exiting ones a moment. */
async function processesWith(entry: string): Promise<number[]> {
  const find = (): number[] =>
    readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(entry);
        } catch {
          return false;
        }
      })
      .map(Number);
  for (let i = 0; i < 50 && find().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return find();
}

function onlyChild(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
  expect(children).toHaveLength(1);
  return Number(children[0]);
}

async function waitFor(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
