// R8: files are published from the descriptor that was written, never looked up again by path. A real
// attacker — a second process under another uid — races secretwrap in a shared, non-sticky 0777 dir
// (what a Kubernetes emptyDir is), and kill -9 lands at random moments; afterwards no target may be a
// symlink or someone else's file, and no secret byte may exist anywhere but in a complete target.
// Everything happens inside a temp dir made here; the attacker only ever touches that dir.
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canary } from "../helpers/canary.ts";
import { runCli, startCli } from "../helpers/cli.ts";
import { NODE24 } from "../helpers/nodes.ts";

const ATTACKER = 65534;
const isRoot = process.geteuid?.() === 0;
/** Fewer trials for a quick local run; CI uses the defaults. */
const TRIALS = Number(process.env["SECRETWRAP_TEST_R8_TRIALS"] ?? "40");
const MANIFEST = "..secretwrap-manifest";

const root = mkdtempSync("/dev/shm/secretwrap-test-r8-");
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** FILES targets of about 1.5 KiB each (under one page, so one write() puts a value whole or not at all). */
const FILES = 24;
function writeValues(sources: string): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < FILES; i++) {
    const value = `${canary(`R8_${i}`)}-${"v".repeat(1500)}`;
    writeFileSync(join(sources, `S${i}`), value);
    values.set(`S${i}`, value);
  }
  return values;
}
const envFor = (sources: string): Record<string, string> =>
  Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`S${i}`, `ref+file://${sources}/S${i}`]));

/** Every regular file under `dir` (symlinks not followed) → its content. */
function filesUnder(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (path: string): void => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else if (stat.isFile()) found.set(path, readFileSync(path));
  };
  walk(dir);
  return found;
}

/**
 * Secret bytes may only be in a target, whole: a file holding (a prefix of) any value's canary must be
 * that value's target and hold exactly that value. `values` lists every value any run may have written.
 */
function misplacedSecrets(
  dirs: readonly string[],
  out: string,
  values: readonly Map<string, string>[],
): string[] {
  const problems: string[] = [];
  for (const dir of dirs) {
    for (const [path, content] of filesUnder(dir)) {
      const text = content.toString("latin1");
      for (const run of values) {
        for (const [name, value] of run) {
          const mark = value.slice(0, 30);
          if (!text.includes(mark)) continue;
          if (path !== join(out, name)) problems.push(`${path} holds ${name}'s secret`);
          else if (text !== value) problems.push(`${path} holds an incomplete value`);
        }
      }
    }
  }
  return problems;
}

/** The published target is a regular file secretwrap made (owner, one link) holding exactly `value`. */
function checkTarget(path: string, value: string): string | undefined {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return `${path} is a symlink`;
  if (!stat.isFile()) return `${path} is not a regular file`;
  if (stat.uid !== 0 || stat.nlink !== 1)
    return `${path} is not secretwrap's (uid ${stat.uid}, ${stat.nlink} links)`;
  if (readFileSync(path, "latin1") !== value) return `${path} does not hold the value written`;
  return undefined;
}

/**
 * The attacker, as another uid: in a loop, every entry of the output dir that is not a published name
 * (the staging dir, staged files) is renamed away and replaced by a symlink into the attacker's own dir
 * or by a directory of its own — what it takes to make a path-based publisher publish a symlink or
 * write a secret into the attacker's dir. Published names are left alone: after secretwrap has exited,
 * anyone may replace them in such a dir (which is why secretwrap warns about it).
 */
const ATTACKER_SCRIPT = `
import * as fs from "node:fs";
const [out, evil, stop, keepJson] = process.argv.slice(2);
const keep = new Set(JSON.parse(keepJson));
const attacked = new Set();
let n = 0, swaps = 0, stagingSwaps = 0;
while (!fs.existsSync(stop)) {
  let entries;
  try { entries = fs.readdirSync(out); } catch { continue; }
  for (const name of entries) {
    // Each name once: what sits there afterwards is the attacker's own plant.
    if (keep.has(name) || name.startsWith("stolen-") || attacked.has(name)) continue;
    attacked.add(name);
    const path = out + "/" + name;
    try {
      fs.renameSync(path, out + "/stolen-" + n);
      if (n % 2 === 0) fs.symlinkSync(evil, path);
      else fs.mkdirSync(path, 0o777);
      n++;
      swaps++;
      if (name.includes("staging") || name.startsWith(".tmp-")) stagingSwaps++;
    } catch {}
  }
}
process.stdout.write(JSON.stringify({ swaps, stagingSwaps }));
`;

function startAttacker(
  out: string,
  evil: string,
  stop: string,
  keep: readonly string[],
): {
  child: ChildProcess;
  report: Promise<{ swaps: number; stagingSwaps: number }>;
} {
  const script = join(root, "attacker.mjs");
  writeFileSync(script, ATTACKER_SCRIPT);
  chmodSync(script, 0o644);
  const child = spawn(NODE24.bin, [script, out, evil, stop, JSON.stringify(keep)], {
    uid: ATTACKER,
    gid: ATTACKER,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  const report = new Promise<{ swaps: number; stagingSwaps: number }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(JSON.parse(stdout || "{}") as { swaps: number; stagingSwaps: number }));
  });
  return { child, report };
}

describe("R8: publication from the descriptor", () => {
  it("R8: Node cannot link an O_TMPFILE inode (EXDEV), but a /proc/self/fd/<dirfd> component follows a renamed dir", () => {
    const dir = join(root, `probe-${++counter}`);
    mkdirSync(dir, { mode: 0o700 });
    const O_TMPFILE = 0o20200000;
    const tmp = openSync(dir, O_TMPFILE | constants.O_RDWR, 0o600);
    try {
      expect(() => renameSync(`/proc/self/fd/${tmp}`, join(dir, "x"))).toThrow();
      let linkError: NodeJS.ErrnoException | undefined;
      try {
        // fs.link is link(2): no AT_SYMLINK_FOLLOW, so it tries to link the magic link itself.
        linkSync(`/proc/self/fd/${tmp}`, join(dir, "linked"));
      } catch (error) {
        linkError = error as NodeJS.ErrnoException;
      }
      expect(linkError?.code).toBe("EXDEV");
    } finally {
      closeSync(tmp);
    }
    mkdirSync(join(dir, "staging"), { mode: 0o700 });
    const dirFd = openSync(join(dir, "staging"), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      renameSync(join(dir, "staging"), join(dir, "moved"));
      mkdirSync(join(dir, "staging"));
      writeFileSync(`/proc/self/fd/${dirFd}/file`, "through the descriptor");
      expect(readdirSync(join(dir, "moved"))).toEqual(["file"]);
      expect(readdirSync(join(dir, "staging"))).toEqual([]);
      expect(fstatSync(dirFd).ino).toBe(lstatSync(join(dir, "moved")).ino);
    } finally {
      closeSync(dirFd);
    }
  });

  it.skipIf(!isRoot)(
    "R8: an attacker of another uid racing in a 0777 non-sticky dir never gets a symlink or its own file published, nor a secret byte",
    async () => {
      const base = join(root, `attack-${++counter}`);
      const out = join(base, "out");
      const evil = join(base, "evil");
      const sources = join(base, "sources");
      mkdirSync(base, { mode: 0o755 });
      mkdirSync(out);
      chmodSync(out, 0o777);
      mkdirSync(evil);
      chmodSync(evil, 0o777);
      mkdirSync(sources, { mode: 0o700 });
      const stop = join(base, "stop");
      const names = Array.from({ length: FILES }, (_, i) => `S${i}`);
      const attacker = startAttacker(out, evil, stop, [...names, MANIFEST]);
      const written: Map<string, string>[] = [];
      const problems: string[] = [];
      const codes: number[] = [];
      try {
        // The same dir again and again: the first run creates the files, every later one replaces them.
        for (let run = 0; run < TRIALS; run++) {
          const values = writeValues(sources);
          written.push(values);
          const result = await runCli(["render", "--out", out], { node: NODE24, env: envFor(sources) });
          codes.push(result.code ?? -1);
          if (result.code === 0) {
            for (const [name, value] of values) {
              const problem = checkTarget(join(out, name), value);
              if (problem !== undefined) problems.push(`run ${run}: ${problem}`);
            }
          } else if (result.code !== 73) {
            problems.push(`run ${run}: exit ${result.code}: ${result.stderr}`);
          }
        }
      } finally {
        writeFileSync(stop, "");
      }
      const { swaps, stagingSwaps } = await attacker.report;
      expect(problems).toEqual([]);
      expect(misplacedSecrets([out, evil], out, written)).toEqual([]);
      expect(readdirSync(evil)).toEqual([]);
      // The attacker really raced the publication: it swapped staging entries many times.
      expect(stagingSwaps, `swaps ${swaps}, exit codes ${codes.join(",")}`).toBeGreaterThan(0);
      // A swapped staging dir makes a run fail closed (73), never succeed wrongly; most runs succeed.
      expect(codes.filter((c) => c === 0).length).toBeGreaterThan(0);
    },
    300_000,
  );

  it("R8: a kill -9 at random moments leaves no secret bytes anywhere but in complete targets, and the next run succeeds", async () => {
    const base = join(root, `kill-${++counter}`);
    const out = join(base, "out");
    const sources = join(base, "sources");
    mkdirSync(base, { mode: 0o755 });
    mkdirSync(out, { mode: 0o700 });
    mkdirSync(sources, { mode: 0o700 });
    // How long a whole run takes here, to spread the uniform kills over it.
    writeValues(sources);
    const started = Date.now();
    expect((await runCli(["render", "--out", out], { node: NODE24, env: envFor(sources) })).code).toBe(0);
    const runMs = Date.now() - started;
    const written: Map<string, string>[] = [];
    let killedWhilePublishing = 0;
    let landedMidway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      written.push(writeValues(sources));
      // Half the kills: uniform over the whole run. The other half: a random 0–4 ms after the first
      // new entry appears in the output dir, i.e. inside the publication itself.
      const onPublication = trial % 2 === 1;
      const before = new Set(readdirSync(out));
      const running = startCli(["render", "--out", out], { node: NODE24, env: envFor(sources) });
      const killer = onPublication
        ? watch(out, () => {
            killer?.close();
            killedWhilePublishing++;
            const until = performance.now() + Math.random() * 4;
            while (performance.now() < until); // a sub-millisecond-precise random moment
            running.child.kill("SIGKILL");
          })
        : undefined;
      const timer = onPublication
        ? undefined
        : setTimeout(() => running.child.kill("SIGKILL"), Math.random() * runMs * 1.2);
      const result = await running.result;
      clearTimeout(timer);
      killer?.close();
      expect([0, null], result.stderr).toContain(result.code);
      // Evidence that this kill landed inside a publication: a staging dir, or a target not yet filled.
      const midway = readdirSync(out).some(
        (e) =>
          (!before.has(e) && (e.includes("staging") || e.startsWith(".tmp-"))) ||
          (lstatSync(join(out, e)).mode & 0o777) === 0,
      );
      if (result.code === null && midway) landedMidway++;
      expect(misplacedSecrets([out], out, written), `trial ${trial}`).toEqual([]);
    }
    expect(killedWhilePublishing).toBeGreaterThan(0);
    expect(landedMidway).toBeGreaterThan(0);
    // Whatever the kills left, a restart publishes the latest values (R16: restart-safe).
    const latest = writeValues(sources);
    const final = await runCli(["render", "--out", out], { node: NODE24, env: envFor(sources) });
    expect(final.code, final.stderr).toBe(0);
    for (const [name, value] of latest) expect(readFileSync(join(out, name), "utf8")).toBe(value);
    // What a kill left in staging dirs is zeros (space reserved, never a secret byte) or a manifest.
    for (const [path, content] of filesUnder(out)) {
      if (path.includes("..secretwrap-staging-") && !path.endsWith("/manifest"))
        expect(
          content.every((b) => b === 0),
          path,
        ).toBe(true);
    }
  }, 300_000);
});
