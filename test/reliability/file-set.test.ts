// Group E of reliability.md for file sets (#15, src/output/file-set.ts): E2, a reader in another process
// never sees a certificate of one set with the key of another while sets are swapped; E13, a swap that
// fails (a full tmpfs, no inode left for the generation dir) leaves the previous set whole and visible,
// with no byte of the new one anywhere. The failures are real: a tiny tmpfs mounted by root in a private
// mount namespace (unshare --mount), so a run without root skips them and says so. Everything happens in
// temp dirs made here.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { publishFileSet } from "../../src/output/file-set.ts";
import { publishFiles, type FileToWrite } from "../../src/output/files.ts";
import { marker, tree, valueOf, type Outcome, type Step } from "../helpers/file-set-tree.ts";
import { REPO } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync("/dev/shm/secretwrap-test-rel-file-set-");
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const scratch = scratchDirs(work, 0o700);

/** Root in a private mount namespace can mount a small tmpfs (to fill it on purpose). */
const unshareProblem = ((): string | undefined => {
  const probe = spawnSync("unshare", ["--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], {
    encoding: "utf8",
  });
  if (probe.error !== undefined) return `unshare is not available (${probe.error.message})`;
  if (probe.status !== 0) return `unshare --mount with a tmpfs failed: ${probe.stderr.trim()}`;
  return undefined;
})();
if (unshareProblem !== undefined)
  console.warn(`file-set.test.ts: the E13 cases are skipped: ${unshareProblem} (they need root)`);
const withTmpfs = unshareProblem === undefined ? it : it.skip;

describe("E2: a certificate and its key are swapped as one set", () => {
  const SWAPS = 1000;
  const pair = (tag: number): FileToWrite[] =>
    ["cert", "key"].map((name) => ({
      name: `${name.toUpperCase()}_FILE`,
      fileName: name,
      mode: 0o400,
      bytes: Buffer.from(`gen ${tag}\n${"x".repeat(2048)}\n`),
    }));

  interface Seen {
    readonly rounds: number;
    readonly consistent: number;
    readonly mixed: number;
    readonly straddled: number;
    readonly torn: number;
    readonly missing: number;
    readonly tags: number;
  }

  /** Starts the reader on `dir`, runs `swap(i)` SWAPS times once it reads, and returns what it saw. */
  async function readWhileSwapping(dir: string, swap: (tag: number) => void): Promise<Seen> {
    const stop = join(scratch(), "stop");
    const reader = spawn(process.execPath, [join(REPO, "test/fixtures/file-set-reader.mjs"), dir, stop], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const ready = new Promise<void>((resolve, reject) => {
      reader.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.startsWith("ready\n")) resolve();
      });
      reader.on("exit", (code) => reject(new Error(`the reader exited with ${code} before reading`)));
    });
    const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
    await ready;
    try {
      for (let tag = 1; tag <= SWAPS; tag++) swap(tag);
    } finally {
      writeFileSync(stop, "");
    }
    expect(await exited).toBe(0);
    return JSON.parse(out.slice("ready\n".length)) as Seen;
  }

  it(`E2: through the stable paths, 0 mixed and 0 torn reads while the set is swapped ${SWAPS} times`, async () => {
    const dir = scratch();
    publishFileSet(dir, pair(0));
    const seen = await readWhileSwapping(dir, (tag) => publishFileSet(dir, pair(tag)));
    console.info(`E2 (set): ${JSON.stringify(seen)}`);
    expect(seen.mixed).toBe(0);
    expect(seen.torn).toBe(0);
    // `missing` is not asserted: a read that resolved ..data to the old generation an instant before the
    // swap removed it finds no file (kubelet's AtomicWriter has the same window; about 1 in 10,000
    // rounds here at 1,000 swaps a second). An app reads after the SIGHUP that follows a swap.
    // The reader really ran beside the swaps: it saw many sets, and some of its rounds spanned a swap.
    // (Here about 400 of the 1,000 sets and 25,000 rounds; the bounds leave room for a loaded machine.)
    expect(seen.tags).toBeGreaterThan(SWAPS / 50);
    expect(seen.consistent).toBeGreaterThan(SWAPS / 10);
  });

  it("E2 (the test can fail): the same reader sees mixed sets when the files are replaced one by one", async () => {
    const dir = scratch();
    publishFiles(dir, pair(0));
    const seen = await readWhileSwapping(dir, (tag) => {
      // Each file atomically (publishFiles' own guarantee), but the pair not as one.
      const [cert, key] = pair(tag);
      publishFiles(dir, [cert as FileToWrite]);
      publishFiles(dir, [key as FileToWrite]);
    });
    console.info(`E2 (one by one): ${JSON.stringify(seen)}`);
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

/** Runs the plan in a fresh tmpfs of `sizeKiB` (and `inodes`, 0 = no limit), mounted in a private namespace. */
function onTinyTmpfs(sizeKiB: number, inodes: number, steps: readonly Step[]): Outcome[] {
  const mountpoint = scratch();
  const result = spawnSync(
    "unshare",
    [
      "--mount",
      "sh",
      "-c",
      'mount -t tmpfs -o "$1" tmpfs "$2" && exec "$3" "$4" "$2" "$5"',
      "sh",
      `size=${sizeKiB}k,nr_inodes=${inodes},mode=700`,
      mountpoint,
      process.execPath,
      join(REPO, "test/fixtures/file-set-tmpfs.ts"),
      JSON.stringify(steps),
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  if (result.status !== 0) throw new Error(`the tmpfs run failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Outcome[];
}

type SetStep = Extract<Step, { set: unknown }>;

/**
 * After every step: the last set that was published is visible whole through its links, in its one
 * generation; nothing else of any set exists anywhere (no marker outside it, no zero-filled file, no
 * staging dir); a failed step is an OUTPUT_FAILED error.
 */
function expectOnlyLastPublishedSet(steps: readonly Step[], outcomes: readonly Outcome[]): void {
  let last: { index: number; step: SetStep } | undefined;
  outcomes.forEach((outcome, index) => {
    const step = steps[index] as Step;
    const where = `step ${index} (${JSON.stringify(step)}): ${outcome.message ?? "published"}`;
    if ("set" in step) {
      if (outcome.ok) last = { index, step };
      else expect(outcome.code, where).toBe("OUTPUT_FAILED");
    }
    const top = outcome.tree.filter((e) => e.path.lastIndexOf("/") === 0 && e.path !== "/");
    const ours = outcome.tree.filter((e) => !e.path.startsWith("/filler"));
    const targets = top.filter((e) => !e.path.startsWith("/..") && !e.path.startsWith("/filler"));
    const generations = top.filter((e) => e.type === "dir");
    const data = top.find((e) => e.path === "/..data");
    expect(
      ours.filter((e) => e.path.includes("..secretwrap-staging")),
      where,
    ).toEqual([]);
    expect(
      ours.filter((e) => e.zeros === true),
      where,
    ).toEqual([]);
    if (last === undefined) {
      expect([...targets, ...generations], where).toEqual([]);
      expect(
        ours.flatMap((e) => e.markers ?? []),
        where,
      ).toEqual([]);
      return;
    }
    const { index: published, step: set } = last;
    expect(
      generations.map((e) => e.path),
      where,
    ).toEqual([`/${data?.link}`]);
    expect(targets.map((e) => [e.path, e.type, e.link]).sort(), where).toEqual(
      set.set.map(({ name }) => [`/${name}`, "link", `..data/${name}`]).sort(),
    );
    const expected = set.set
      .map(({ name, size }) => ({
        path: `/${data?.link}/${name}`,
        markers: [marker(published, name)],
        size: Buffer.byteLength(valueOf(published, name, size)),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
    const holding = ours
      .filter((e) => (e.markers ?? []).length > 0 || e.path.startsWith(`/${data?.link}/`))
      .filter((e) => !e.path.endsWith("..secretwrap-manifest"))
      .map((e) => ({ path: e.path, markers: e.markers, size: e.size }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(holding, where).toEqual(expected);
  });
}

describe("E13: a swap that fails leaves the previous set whole", () => {
  withTmpfs(
    "E13: ENOSPC while the new set is written (64 KiB tmpfs): the old set stays, no byte of the new one is left",
    () => {
      const steps: Step[] = [
        {
          set: [
            { name: "cert", size: 8000 },
            { name: "key", size: 8000 },
          ],
        },
        {
          set: [
            { name: "cert", size: 40_000 },
            { name: "key", size: 40_000 },
            { name: "ca", size: 100 },
          ],
        },
        {
          set: [
            { name: "cert", size: 9000 },
            { name: "key", size: 9000 },
          ],
        },
      ];
      const outcomes = onTinyTmpfs(64, 0, steps);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(outcomes[1]?.message).toMatch(/no space left/);
      expectOnlyLastPublishedSet(steps, outcomes);
    },
  );

  withTmpfs("E13: no inode left for the generation dir: the swap fails with 73 and the old set stays", () => {
    const steps: Step[] = [
      {
        set: [
          { name: "cert", size: 100 },
          { name: "key", size: 100 },
        ],
      },
      { fill: "inodes" },
      {
        set: [
          { name: "cert", size: 100 },
          { name: "key", size: 100 },
        ],
      },
    ];
    const outcomes = onTinyTmpfs(1024, 64, steps);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    expect(outcomes[2]?.message).toMatch(
      /cannot create a (staging|generation) directory in the output dir: no space left/,
    );
    expectOnlyLastPublishedSet(steps, outcomes);
  });

  withTmpfs(
    "E13 (randomized): whatever step runs out of space or inodes, after each swap exactly the last published set exists",
    () => {
      const failures = new Map<string, number>();
      const names = fc.constantFrom("cert", "key", "ca", "crl");
      const set = fc
        .uniqueArray(fc.record({ name: names, size: fc.integer({ min: 0, max: 24_000 }) }), {
          selector: (f) => f.name,
          maxLength: 4,
        })
        .map((files): Step => ({ set: files }));
      fc.assert(
        fc.property(
          fc.constantFrom(32, 64, 96),
          fc.constantFrom(0, 10, 14, 18, 24, 32),
          fc.array(
            fc.oneof(
              { weight: 6, arbitrary: set },
              { weight: 1, arbitrary: fc.constant<Step>({ fill: "space" }) },
            ),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          (sizeKiB, inodes, steps) => {
            const outcomes = onTinyTmpfs(sizeKiB, inodes, steps);
            expectOnlyLastPublishedSet(steps, outcomes);
            for (const o of outcomes.filter((o) => !o.ok)) {
              const kind = (o.message ?? "").replace(/[A-Za-z]+_FILE/g, "X").replace(/\/\S+/g, "PATH");
              failures.set(kind, (failures.get(kind) ?? 0) + 1);
            }
          },
        ),
        { numRuns: 40 },
      );
      console.info(`E13 (randomized) failures seen: ${JSON.stringify([...failures])}`);
      expect(failures.size).toBeGreaterThan(1);
    },
  );
});

describe("a swap killed at any moment (kill -9)", () => {
  /** Sets of 1 to 3 names that come and go, so links are added and dropped as well as values swapped. */
  const plan: Step[] = Array.from({ length: 1000 }, (_, i) => ({
    set: ["cert", "key", "ca"].slice(0, 1 + (i % 3)).map((name) => ({ name, size: 3000 + (i % 7) * 1000 })),
  }));

  it("leaves nothing the next swap does not clean: one generation, the new set, no secret byte elsewhere", async () => {
    const trials = fc.sample(fc.integer({ min: 0, max: 40 }), 12);
    for (const delay of trials) {
      const dir = scratch();
      const writer = spawn(
        process.execPath,
        [join(REPO, "test/fixtures/file-set-tmpfs.ts"), dir, JSON.stringify(plan)],
        {
          stdio: "ignore",
        },
      );
      const exited = new Promise((resolve) => writer.on("exit", resolve));
      while (!existsSync(join(dir, "..data"))) await sleep(1);
      await sleep(delay);
      writer.kill("SIGKILL");
      await exited;
      // Step 0 of this check: the killed plan's step 0 wrote only cert, so <S0:key> and <S0:crl> are new.
      const last: Step = {
        set: [
          { name: "key", size: 500 },
          { name: "crl", size: 500 },
        ],
      };
      const files = last.set.map(({ name, size }) => ({
        name: `${name}_FILE`,
        fileName: name,
        mode: 0o400,
        bytes: Buffer.from(valueOf(0, name, size)),
      }));
      publishFileSet(dir, files);
      // Staging dirs an interrupted publication left in the output dir hold no value (links, a manifest,
      // zero-filled files at most): allowed, and checked for that; everything else must be the new set.
      const leftovers = tree(dir).filter((e) => e.path.includes("..secretwrap-staging-"));
      expect(
        leftovers.flatMap((e) => e.markers ?? []),
        `delay ${delay}`,
      ).toEqual([]);
      expectOnlyLastPublishedSet(
        [last],
        [{ ok: true, tree: tree(dir).filter((e) => !e.path.includes("..secretwrap-staging-")) }],
      );
    }
  });
});
