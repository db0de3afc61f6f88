// Dockerfile.example built and run with podman, as a user would: secretwrap behind tini as the
// ENTRYPOINT, the file provider reading a secret mounted into the container (no network provider), the
// probe app (or a busybox script in the image without Node) reporting what it got.
import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { probeStart, readProbe, waitForProbe } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";
import {
  LIMITS,
  buildExample,
  containerSkipReason,
  ensureBaseImages,
  ensureSea,
  podman,
  podmanOk,
  type BaseImages,
} from "./images.ts";

const skipReason = containerSkipReason();
if (skipReason !== undefined) console.warn(`container tests skipped: ${skipReason}`);

const TMPFS_MAGIC = 0x01021994;
const run = randomBytes(4).toString("hex");
const RUNTIME = `localhost/secretwrap-example-test:${run}`;
const SEA_IMAGE = `localhost/secretwrap-example-test:sea-${run}`;
const containers: string[] = [];
const work = mkdtempSync(join(tmpdir(), "secretwrap-container-"));
chmodSync(work, 0o755);

const DB_PASSWORD = canary("DBPW");
const API_KEY = canary("APIKEY");
const LICENSE = canary("LICENSE");
let base: BaseImages;
const sizes: Record<string, number> = {};

/** A directory the container user (1000 or 10001) may write to. */
function outDir(): string {
  const dir = mkdtempSync(join(work, "out-"));
  chmodSync(dir, 0o777);
  return dir;
}

function containerName(label: string): string {
  const name = `secretwrap-test-${label}-${run}`;
  containers.push(name);
  return name;
}

const PROBE_APP = ["node", "/probe/probe.mjs"];

/**
 * `podman run` options for an app container: the test limits, the test secrets at /secrets, `out`
 * at /out, `env`, and (unless the image has no Node) the probe app at /probe.
 */
function appOptions(out: string, env: Record<string, string>, { probe = true } = {}): string[] {
  return [
    ...LIMITS,
    "-v",
    `${join(work, "secrets")}:/secrets:ro`,
    ...(probe ? ["-v", `${REPO}/test/fixtures:/probe:ro`] : []),
    "-v",
    `${out}:/out`,
    ...Object.entries(env).flatMap(([name, value]) => ["-e", `${name}=${value}`]),
  ];
}

async function imageSize(image: string): Promise<number> {
  return Number((await podmanOk(["image", "inspect", "--format", "{{.Size}}", image])).trim());
}

async function exitCodeOf(name: string): Promise<number> {
  return Number((await podmanOk(["inspect", "--format", "{{.State.ExitCode}}", name])).trim());
}

describe.skipIf(skipReason !== undefined)("Dockerfile.example with podman", () => {
  beforeAll(async () => {
    const started = Date.now();
    const secrets = join(work, "secrets");
    rmSync(secrets, { recursive: true, force: true });
    mkdirSync(secrets, { mode: 0o755 });
    chmodSync(secrets, 0o755);
    writeFileSync(join(secrets, "db"), DB_PASSWORD, { mode: 0o644 });
    writeFileSync(join(secrets, "api"), API_KEY, { mode: 0o644 });
    writeFileSync(join(work, "license"), LICENSE, { mode: 0o600 });
    ensureSea();
    base = await ensureBaseImages();
    await buildExample({ tag: RUNTIME, base, secrets: { license: join(work, "license") } });
    await buildExample({ tag: SEA_IMAGE, base, target: "sea" });
    for (const [name, image] of [
      ["node base", base.node],
      ["runtime", RUNTIME],
      ["busybox base", base.sea],
      ["sea", SEA_IMAGE],
    ] as const) {
      sizes[name] = await imageSize(image);
    }
    console.log(
      `container images built in ${((Date.now() - started) / 1000).toFixed(1)}s; sizes (MB): ${Object.entries(
        sizes,
      )
        .map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)}`)
        .join(", ")}`,
    );
  }, 300_000);

  afterAll(async () => {
    for (const name of containers) await podman(["rm", "-f", "-t", "0", name]);
    await podman(["rmi", "-f", RUNTIME, SEA_IMAGE]);
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("keeps the build-time secret out of every layer, ENV and ARG, yet used it during the build", async () => {
    // The RUN --mount=type=secret step kept only the value's length.
    const kept = await podmanOk([
      "run",
      "--rm",
      ...LIMITS,
      "--entrypoint",
      "cat",
      RUNTIME,
      "/opt/secretwrap/license-bytes",
    ]);
    expect(kept.trim()).toBe(String(Buffer.byteLength(LICENSE)));
    const archive = join(work, "image.tar");
    await podmanOk(["save", "--format", "docker-archive", "-o", archive, RUNTIME], 180_000);
    const content = readFileSync(archive).toString("latin1");
    rmSync(archive);
    // Positive control: text that is in a layer (the example app) is found by the same scan.
    expect(content).toContain("GREETING passed through unchanged");
    const history = await podmanOk(["history", "--no-trunc", "--format", "{{.CreatedBy}}", RUNTIME]);
    const config = await podmanOk(["image", "inspect", RUNTIME]);
    expect(history).toContain("--mount=type=secret,id=license");
    expect(scanForCanaries([LICENSE], { texts: { layers: content, history, config } })).toEqual([]);
  });

  it("the runtime image holds only bin/ dist/ package.json of secretwrap: no node_modules, no sources", async () => {
    const listing = await podmanOk([
      "run",
      "--rm",
      ...LIMITS,
      "--entrypoint",
      "sh",
      RUNTIME,
      "-c",
      "ls /opt/secretwrap; find / -xdev -name node_modules -not -path '/usr/local/lib/node_modules' -not -path '/proc/*' | grep -v '^/usr/local/lib/node_modules/npm' || true",
    ]);
    expect(listing.trim().split("\n")).toEqual(["bin", "dist", "license-bytes", "package.json"]);
    // The bundle is small: the runtime image is the base plus a few MB (generous bound).
    expect((sizes["runtime"] ?? 0) - (sizes["node base"] ?? 0)).toBeLessThan(20e6);
  });

  it("the runtime image has secretwrap's compile cache: root's, read-only, filled for the user it runs as", async () => {
    // As that user (1000): list it, start secretwrap, list it again. Node would write new entries
    // into a cache it could write; this one it can only read.
    const listing = await podmanOk([
      "run",
      "--rm",
      ...LIMITS,
      "--entrypoint",
      "sh",
      RUNTIME,
      "-c",
      "cd /opt/secretwrap/.compile-cache && ls -lnR > /tmp/before && secretwrap version >/dev/null && ls -lnR > /tmp/after && cmp /tmp/before /tmp/after && cat /tmp/after",
    ]);
    const dirs = [...listing.matchAll(/^\.\/(v[^:/]+):$/gm)].map((m) => m[1] ?? "");
    expect(dirs.some((d) => d.endsWith("-1000"))).toBe(true);
    const entries = listing.split("\n").filter((line) => /^[-d][rwx-]{9}/.test(line));
    expect(entries.length).toBeGreaterThan(dirs.length * 3);
    for (const line of entries) expect(line).toMatch(/^(-rw-r--r--|drwxr-xr-x)\s+\d+\s+0\s+0\s/);
  });

  it("runs the app as the non-root user behind tini, with 0400 _FILE secrets on /dev/shm owned by it", async () => {
    const out = outDir();
    const name = containerName("files");
    const result = await podman([
      "run",
      "--name",
      name,
      ...appOptions(out, {
        DB_PASSWORD_FILE: "ref+file:///secrets/db",
        API_KEY: "ref+file:///secrets/api",
        PROBE_OUT: "/out/probe.jsonl",
      }),
      RUNTIME,
      ...PROBE_APP,
      "--exit",
      "0",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(join(out, "probe.jsonl")));
    expect([start.uid, start.gid]).toEqual([1000, 1000]);
    // secretwrap replaced itself with the app: its parent is tini (PID 1), nothing in between.
    expect(start.ppid).toBe(1);
    expect(start.env?.["API_KEY"]).toBe(API_KEY);
    const file = start.files?.["DB_PASSWORD_FILE"];
    expect(file?.path).toMatch(/^\/dev\/shm\/secretwrap-[^/]+\/DB_PASSWORD$/);
    expect(file?.mode).toBe("400");
    expect([file?.uid, file?.gid]).toEqual([1000, 1000]);
    expect(file?.dirMode).toBe("700");
    expect(file?.fsType).toBe(TMPFS_MAGIC);
    expect(Buffer.from(file?.base64 ?? "", "base64").toString("utf8")).toBe(DB_PASSWORD);
    expect(result.stderr).toContain("secretwrap: resolved DB_PASSWORD_FILE");
    const logs = await podmanOk(["logs", name]);
    expect(
      scanForCanaries([DB_PASSWORD, API_KEY], {
        texts: { stdout: result.stdout, stderr: result.stderr, logs },
      }),
    ).toEqual([]);
  });

  it("podman stop reaches the app: it logs SIGTERM and its exit code is the container's", async () => {
    const out = outDir();
    const name = containerName("stop");
    await podmanOk([
      "run",
      "-d",
      "--name",
      name,
      ...appOptions(out, { DB_PASSWORD_FILE: "ref+file:///secrets/db", PROBE_OUT: "/out/probe.jsonl" }),
      RUNTIME,
      ...PROBE_APP,
      "--wait",
      "--term-exit",
      "42",
    ]);
    const probeOut = join(out, "probe.jsonl");
    await waitForProbe(probeOut, (records) => records.some((r) => r.probe === "ready"), 30_000);
    const stopStarted = Date.now();
    // -t 20: if SIGTERM did not reach the app, podman would SIGKILL after 20 s (exit 137).
    await podmanOk(["stop", "-t", "20", name], 60_000);
    const stopMs = Date.now() - stopStarted;
    expect(readProbe(probeOut).filter((r) => r.probe === "signal")).toEqual([
      { probe: "signal", signal: "SIGTERM" },
    ]);
    expect(await exitCodeOf(name)).toBe(42);
    expect(stopMs).toBeLessThan(15_000);
    console.log(`podman stop of the runtime image took ${stopMs} ms`);
  });

  it("a missing secret keeps the app from starting: exit 69, no app marker, no value in the output", async () => {
    const out = outDir();
    const result = await podman([
      "run",
      "--rm",
      ...appOptions(out, {
        API_KEY: "ref+file:///secrets/api",
        DB_PASSWORD_FILE: "ref+file:///secrets/does-not-exist",
        PROBE_MARKER: "/out/marker",
        PROBE_OUT: "/out/probe.jsonl",
      }),
      RUNTIME,
      ...PROBE_APP,
      "--exit",
      "0",
    ]);
    expect(result.code).toBe(69);
    expect(existsSync(join(out, "marker"))).toBe(false);
    expect(existsSync(join(out, "probe.jsonl"))).toBe(false);
    expect(result.stderr).toMatch(/DB_PASSWORD_FILE SECRET_NOT_FOUND/);
    expect(result.stderr).toContain("the command was not started");
    expect(scanForCanaries([API_KEY], { texts: { stdout: result.stdout, stderr: result.stderr } })).toEqual(
      [],
    );
  });

  it("--user: a container started as root drops to the app user and the files belong to it", async () => {
    const out = outDir();
    const result = await podman([
      "run",
      "--rm",
      ...appOptions(out, { DB_PASSWORD_FILE: "ref+file:///secrets/db", PROBE_OUT: "/out/probe.jsonl" }),
      "--user",
      "0:0",
      "--entrypoint",
      "tini",
      RUNTIME,
      "--",
      "secretwrap",
      "run",
      "--user",
      "1000:1000",
      "--",
      ...PROBE_APP,
      "--exit",
      "0",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(join(out, "probe.jsonl")));
    // setgroups([]): no supplementary groups, root's included.
    expect([start.uid, start.gid, start.groups]).toEqual([1000, 1000, ""]);
    const file = start.files?.["DB_PASSWORD_FILE"];
    expect([file?.mode, file?.uid, file?.gid]).toEqual(["400", 1000, 1000]);
  });

  describe("the single executable in an image without Node", () => {
    // The app is busybox sh: it reports ids, pids, the secret file's mode/owner/filesystem and
    // NODE_OPTIONS (which must reach it, and must not have run inside secretwrap), then waits for TERM.
    const APP = [
      'f="$DB_PASSWORD_FILE"',
      'echo "ids=$(id -u):$(id -g) ppid=$PPID file=$(stat -c %a:%u:%g "$f") fs=$(stat -f -c %T "$f") dir=$(stat -c %a "$(dirname "$f")")" > /out/info',
      'echo "node_options=$NODE_OPTIONS" >> /out/info',
      'echo "sha256=$(sha256sum < "$f" | cut -d" " -f1)" >> /out/info',
      'trap "echo TERM > /out/term; exit 9" TERM',
      "touch /out/ready",
      "while :; do sleep 0.1; done",
    ].join("\n");

    it("has no Node and runs secretwrap behind tini as a non-root user", async () => {
      const check = await podman([
        "run",
        "--rm",
        ...LIMITS,
        "--entrypoint",
        "sh",
        SEA_IMAGE,
        "-c",
        "command -v node",
      ]);
      expect(check.code).not.toBe(0);
      const out = outDir();
      const name = containerName("sea");
      // A NODE_OPTIONS preload that would crash any Node that loads it: secretwrap must ignore it.
      await podmanOk([
        "run",
        "-d",
        "--name",
        name,
        ...appOptions(
          out,
          {
            DB_PASSWORD_FILE: "ref+file:///secrets/db",
            NODE_OPTIONS: "--require=/nonexistent/preload.js",
          },
          { probe: false },
        ),
        SEA_IMAGE,
        "sh",
        "-c",
        APP,
      ]);
      const deadline = Date.now() + 30_000;
      while (!existsSync(join(out, "ready"))) {
        if (Date.now() > deadline)
          throw new Error(`the app never started: ${(await podman(["logs", name])).stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const info = readFileSync(join(out, "info"), "utf8");
      expect(info).toContain("ids=10001:10001 ppid=1 file=400:10001:10001 fs=tmpfs dir=700\n");
      expect(info).toContain("node_options=--require=/nonexistent/preload.js\n");
      expect(info).toContain(`sha256=${createHash("sha256").update(DB_PASSWORD).digest("hex")}\n`);
      await podmanOk(["stop", "-t", "20", name], 60_000);
      expect(readFileSync(join(out, "term"), "utf8")).toBe("TERM\n");
      expect(await exitCodeOf(name)).toBe(9);
      const logs = await podman(["logs", name]);
      expect(logs.stdout + logs.stderr).toContain("secretwrap: resolved DB_PASSWORD_FILE");
      expect(scanForCanaries([DB_PASSWORD], { texts: { stdout: logs.stdout, stderr: logs.stderr } })).toEqual(
        [],
      );
      // The image is the busybox base plus the executable (about 125 MB), tini and two libraries.
      expect((sizes["sea"] ?? 0) - (sizes["busybox base"] ?? 0)).toBeLessThan(160e6);
    });

    it("fails closed too: exit 69 and the command never runs", async () => {
      const out = outDir();
      const result = await podman([
        "run",
        "--rm",
        ...appOptions(out, { DB_PASSWORD_FILE: "ref+file:///secrets/nope" }, { probe: false }),
        SEA_IMAGE,
        "touch",
        "/out/marker",
      ]);
      expect(result.code).toBe(69);
      expect(existsSync(join(out, "marker"))).toBe(false);
      expect(result.stderr).toMatch(/DB_PASSWORD_FILE SECRET_NOT_FOUND/);
    });
  });
});
