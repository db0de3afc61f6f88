// #15: file targets published as one set that is swapped whole (src/output/file-set.ts). Layout, stable
// paths across swaps, dropped names, planted links refused, conversion of an earlier non-watch run's
// files, owner with --user, and a randomized sequence of sets. Everything happens in temp dirs made here.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { SecretwrapError } from "../../../src/errors.ts";
import { DATA_NAME, publishFileSet } from "../../../src/output/file-set.ts";
import { generationMode } from "../../../src/output/generation.ts";
import { publishFiles, removeSecretsDir, type FileToWrite } from "../../../src/output/files.ts";
import { MANIFEST_NAME, parseManifest } from "../../../src/output/manifest.ts";
import { scratchDirs } from "../../helpers/scratch.ts";

const work = mkdtempSync("/dev/shm/secretwrap-test-file-set-");
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const scratch = scratchDirs(work, 0o700);
const isRoot = process.geteuid?.() === 0;
const GENERATION = /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[A-Za-z0-9]{6}$/;

const file = (name: string, value: string, mode = 0o400): FileToWrite => ({
  name: `${name}_FILE`,
  fileName: name,
  mode,
  bytes: Buffer.from(value),
});
const read = (dir: string, name: string): string => readFileSync(join(dir, name), "utf8");
const generations = (dir: string): string[] => readdirSync(dir).filter((e) => GENERATION.test(e));
const manifestOf = (dir: string) => parseManifest(read(dir, MANIFEST_NAME));

/** A hash of every path, type, link, mode, owner and content under `dir`, to prove nothing changed. */
function treeHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    hash.update(`${path}:${stat.mode}:${stat.uid}:${stat.ino}\n`);
    if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (stat.isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    else if (stat.isFile()) hash.update(readFileSync(path));
  };
  walk(dir);
  return hash.digest("hex");
}

function expectOutputError(action: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SecretwrapError);
  expect((thrown as SecretwrapError).code).toBe("OUTPUT_FAILED");
  expect((thrown as SecretwrapError).message).toMatch(message);
}

describe("#15: a file set's layout", () => {
  it("each target is a relative link ..data/<name>; ..data links to the one generation dir, which holds the files with their modes", () => {
    const dir = scratch();
    const paths = publishFileSet(dir, [file("cert", "C1", 0o440), file("key", "K1")]);
    expect(paths).toEqual(
      new Map([
        ["cert_FILE", join(dir, "cert")],
        ["key_FILE", join(dir, "key")],
      ]),
    );
    expect(readlinkSync(join(dir, "cert"))).toBe(`${DATA_NAME}/cert`);
    expect(readlinkSync(join(dir, "key"))).toBe(`${DATA_NAME}/key`);
    const [generation] = generations(dir);
    expect(readlinkSync(join(dir, DATA_NAME))).toBe(generation);
    const genStat = lstatSync(join(dir, generation ?? ""));
    expect(genStat.isDirectory()).toBe(true);
    // Only the owner lists it; the group may pass through, as cert (0440) grants the group read.
    expect(genStat.mode & 0o777).toBe(0o710);
    expect(lstatSync(join(dir, generation ?? "", "cert")).mode & 0o777).toBe(0o440);
    expect(lstatSync(join(dir, generation ?? "", "key")).mode & 0o777).toBe(0o400);
    expect([read(dir, "cert"), read(dir, "key")]).toEqual(["C1", "K1"]);
    // Nothing else: no staging dir, no ..data_tmp, one generation.
    expect(readdirSync(dir).sort()).toEqual([generation, DATA_NAME, MANIFEST_NAME, "cert", "key"].sort());
    expect(readdirSync(join(dir, generation ?? "")).sort()).toEqual([MANIFEST_NAME, "cert", "key"]);
  });

  it("the paths stay the same across swaps, each swap shows the new values, and the old generation is removed", () => {
    const dir = scratch();
    const first = publishFileSet(dir, [file("cert", "C0"), file("key", "K0")]);
    const links = [lstatSync(join(dir, "cert")).ino, lstatSync(join(dir, "key")).ino];
    const seen = new Set(generations(dir));
    for (let i = 1; i <= 5; i++) {
      const paths = publishFileSet(dir, [file("cert", `C${i}`), file("key", `K${i}`)]);
      expect(paths).toEqual(first);
      expect([read(dir, "cert"), read(dir, "key")]).toEqual([`C${i}`, `K${i}`]);
      // The target links are never replaced: only ..data moves.
      expect([lstatSync(join(dir, "cert")).ino, lstatSync(join(dir, "key")).ino]).toEqual(links);
      const now = generations(dir);
      expect(now).toHaveLength(1);
      expect(seen.has(now[0] ?? "")).toBe(false);
      seen.add(now[0] ?? "");
    }
    const manifest = manifestOf(dir);
    expect([...manifest.keys()].sort()).toEqual([...generations(dir), DATA_NAME, "cert", "key"].sort());
  });

  it("a name dropped from the set disappears, a new one appears, and the manifest lists only what is there", () => {
    const dir = scratch();
    publishFileSet(dir, [file("A", "a0"), file("B", "b0")]);
    publishFileSet(dir, [file("A", "a1"), file("C", "c1")]);
    expect(existsSync(join(dir, "B"))).toBe(false);
    expect(() => lstatSync(join(dir, "B"))).toThrow(/ENOENT/);
    expect([read(dir, "A"), read(dir, "C")]).toEqual(["a1", "c1"]);
    expect([...manifestOf(dir).keys()].filter((n) => !n.startsWith(".."))).toEqual(["A", "C"]);
    publishFileSet(dir, []);
    expect(readdirSync(dir).filter((e) => !e.startsWith(".."))).toEqual([]);
  });

  it("removeSecretsDir removes a dir holding a set, generation and links included", () => {
    const dir = scratch();
    publishFileSet(dir, [file("A", "a")]);
    publishFileSet(dir, [file("A", "b")]);
    removeSecretsDir({ path: dir, created: true });
    expect(existsSync(dir)).toBe(false);
  });
});

describe("#15: the generation dir's mode", () => {
  it.each([
    [[0o400], 0o700],
    [[0o400, 0o600], 0o700],
    [[0o440, 0o400], 0o710],
    [[0o444], 0o711],
    [[0o404], 0o701],
    [[], 0o700],
  ])(
    "files %o → a %o generation: listed by its owner only, entered where a file may be read",
    (modes, mode) => {
      expect(generationMode(modes)).toBe(mode);
      const dir = scratch();
      publishFileSet(
        dir,
        modes.map((m, i) => file(`F${i}`, "v", m)),
      );
      expect(lstatSync(join(dir, generations(dir)[0] ?? "")).mode & 0o777).toBe(mode);
    },
  );
});

describe("#15, E11: what a file set never touches (planted links are refused, never followed)", () => {
  it.each([
    ["a symlink to a victim file", (dir: string, victim: string) => symlinkSync(victim, join(dir, "A"))],
    [
      "a symlink ..data/A (what secretwrap would make)",
      (dir: string) => symlinkSync(`${DATA_NAME}/A`, join(dir, "A")),
    ],
    ["a file of the user's", (dir: string) => writeFileSync(join(dir, "A"), "mine")],
  ])("%s at a target name is refused with 73 on the first publish and nothing changes", (_what, plant) => {
    const dir = scratch();
    const victim = join(scratch(), "victim");
    writeFileSync(victim, "must stay intact");
    plant(dir, victim);
    const before = treeHash(dir);
    expectOutputError(
      () => publishFileSet(dir, [file("A", "secret")]),
      /already exists and secretwrap did not write it/,
    );
    expect(treeHash(dir)).toBe(before);
    expect(readFileSync(victim, "utf8")).toBe("must stay intact");
  });

  it("a link planted at a new target name refuses the swap; the previous set stays whole and visible", () => {
    const dir = scratch();
    const victim = join(scratch(), "victim");
    writeFileSync(victim, "must stay intact");
    publishFileSet(dir, [file("A", "a0"), file("B", "b0")]);
    symlinkSync(victim, join(dir, "C"));
    const before = treeHash(dir);
    expectOutputError(
      () => publishFileSet(dir, [file("A", "a1"), file("B", "b1"), file("C", "c1")]),
      /C_FILE as .*\/C: it already exists/,
    );
    expect(treeHash(dir)).toBe(before);
    expect([read(dir, "A"), read(dir, "B")]).toEqual(["a0", "b0"]);
  });

  it("a secretwrap link replaced by another's link (same text, another inode) is refused", () => {
    const dir = scratch();
    publishFileSet(dir, [file("A", "a0")]);
    rmSync(join(dir, "A"));
    symlinkSync(`${DATA_NAME}/A`, join(dir, "A"));
    expectOutputError(
      () => publishFileSet(dir, [file("A", "a1")]),
      /already exists and secretwrap did not write it/,
    );
    expect(read(dir, "A")).toBe("a0");
  });

  it.each([
    ["a planted ..data link to a victim dir, first publish", false],
    ["secretwrap's ..data replaced by a link to a victim dir", true],
  ])("%s is refused with 73 and never followed", (_what, publishedBefore) => {
    const dir = scratch();
    const victim = scratch();
    writeFileSync(join(victim, "A"), "victim file");
    if (publishedBefore) {
      publishFileSet(dir, [file("A", "a0")]);
      rmSync(join(dir, DATA_NAME));
    }
    symlinkSync(victim, join(dir, DATA_NAME));
    const before = [treeHash(dir), treeHash(victim)];
    expectOutputError(
      () => publishFileSet(dir, [file("A", "a1")]),
      /\.\.data already exists and secretwrap did not write it/,
    );
    expect([treeHash(dir), treeHash(victim)]).toEqual(before);
  });

  it("a generation dir planted with secretwrap's name pattern is neither used nor removed", () => {
    const dir = scratch();
    publishFileSet(dir, [file("A", "a0")]);
    const planted = join(dir, "..2000_01_01_00_00_00.planted");
    mkdirSync(planted);
    writeFileSync(join(planted, "A"), "theirs");
    publishFileSet(dir, [file("A", "a1")]);
    expect(read(planted, "A")).toBe("theirs");
    expect(read(dir, "A")).toBe("a1");
  });
});

describe("#15: a dir an earlier non-watch run published into", () => {
  it("its files become links to the set; a dropped one is removed when stale files are (run --secrets-dir)", () => {
    const dir = scratch();
    publishFiles(dir, [file("A", "a0"), file("B", "b0")]);
    expect(lstatSync(join(dir, "A")).isFile()).toBe(true);
    publishFileSet(dir, [file("A", "a1"), file("C", "c1")], undefined, { remove: true, warn: () => {} });
    expect(readlinkSync(join(dir, "A"))).toBe(`${DATA_NAME}/A`);
    expect([read(dir, "A"), read(dir, "C")]).toEqual(["a1", "c1"]);
    expect(existsSync(join(dir, "B"))).toBe(false);
    expect(generations(dir)).toHaveLength(1);
  });

  it("a dropped one is kept with a warning when stale files are kept (render --out), and still replaced later", () => {
    const dir = scratch();
    publishFiles(dir, [file("A", "a0"), file("B", "b0")]);
    const warnings: string[] = [];
    publishFileSet(dir, [file("A", "a1")], undefined, { remove: false, warn: (m) => warnings.push(m) });
    expect(read(dir, "B")).toBe("b0");
    expect(warnings).toEqual([
      `${join(dir, "B")} was left by an earlier run and no longer declared: remove it or use a fresh --out`,
    ]);
    publishFileSet(dir, [file("A", "a2"), file("B", "b2")]);
    expect(readlinkSync(join(dir, "B"))).toBe(`${DATA_NAME}/B`);
    expect(read(dir, "B")).toBe("b2");
  });

  it("a foreign file beside them is refused as a target and never touched otherwise", () => {
    const dir = scratch();
    publishFiles(dir, [file("A", "a0")]);
    writeFileSync(join(dir, "mine"), "user file");
    publishFileSet(dir, [file("A", "a1")], undefined, { remove: true, warn: () => {} });
    expect(read(dir, "mine")).toBe("user file");
    expectOutputError(() => publishFileSet(dir, [file("mine", "x")]), /already exists/);
    expect(read(dir, "A")).toBe("a1");
  });

  it("a later non-watch publishFiles into a dir holding a set swaps a set: no generation is leaked", () => {
    const dir = scratch();
    publishFileSet(dir, [file("A", "a0"), file("B", "b0")]);
    publishFiles(dir, [file("A", "a1")], undefined, { remove: true, warn: () => {} });
    expect(readlinkSync(join(dir, "A"))).toBe(`${DATA_NAME}/A`);
    expect(read(dir, "A")).toBe("a1");
    expect(existsSync(join(dir, "B"))).toBe(false);
    expect(generations(dir)).toHaveLength(1);
  });
});

describe.skipIf(!isRoot)("#15: --user owns the set (root only)", () => {
  it("a file of mode 0444 stays readable by any user through its link (render --out for an app of another uid)", () => {
    const dir = scratch();
    chmodSync(dir, 0o755);
    publishFileSet(dir, [file("A", "public", 0o444), file("B", "private", 0o400)]);
    const as1000 = (...args: string[]) =>
      spawnSync("setpriv", ["--reuid=1000", "--regid=1000", "--clear-groups", ...args], { encoding: "utf8" });
    expect(as1000("cat", join(dir, "A")).stdout).toBe("public");
    expect(as1000("cat", join(dir, "B")).status).not.toBe(0);
    // It may pass through the generation, not list it.
    expect(as1000("ls", join(dir, DATA_NAME, "")).status).not.toBe(0);
  });

  it("the generation dir, the files and the links belong to --user, who can read every file through its path", () => {
    const dir = scratch();
    chownSync(dir, 65534, 65534); // as prepareSecretsDir gives a dir it creates to --user
    const owner = { uid: 65534, gid: 65534 };
    publishFileSet(dir, [file("A", "a0")], owner);
    publishFileSet(dir, [file("A", "a1"), file("B", "b1")], owner);
    const [generation = ""] = generations(dir);
    for (const path of [
      join(dir, generation),
      join(dir, generation, "A"),
      join(dir, "A"),
      join(dir, DATA_NAME),
    ]) {
      expect([lstatSync(path).uid, lstatSync(path).gid]).toEqual([65534, 65534]);
    }
    const asUser = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", join(dir, "A"), join(dir, "B")],
      { encoding: "utf8" },
    );
    expect(asUser.stderr).toBe("");
    expect(asUser.stdout).toBe("a1b1");
    const other = spawnSync(
      "setpriv",
      ["--reuid=1000", "--regid=1000", "--clear-groups", "cat", join(dir, "A")],
      {
        encoding: "utf8",
      },
    );
    expect(other.status).not.toBe(0);
  });
});

describe("#15: randomized sequences of sets", () => {
  it("after every publication exactly the declared names are there, with their values, in one generation", () => {
    const names = fc.constantFrom("A", "B", "C", "D", "E");
    const set = fc.uniqueArray(
      fc.tuple(names, fc.string({ maxLength: 40 }), fc.constantFrom(0o400, 0o440, 0o600)),
      {
        selector: ([name]) => name,
        maxLength: 5,
      },
    );
    fc.assert(
      fc.property(fc.array(set, { minLength: 1, maxLength: 6 }), fc.boolean(), (sets, plainFirst) => {
        const dir = scratch();
        if (plainFirst) publishFiles(dir, [file("A", "plain"), file("B", "plain")]);
        for (const entries of sets) {
          publishFileSet(
            dir,
            entries.map(([n, v, m]) => file(n, v, m)),
            undefined,
            { remove: true, warn: () => {} },
          );
          const visible = readdirSync(dir)
            .filter((e) => !e.startsWith(".."))
            .sort();
          expect(visible).toEqual(entries.map(([n]) => n).sort());
          for (const [n, v, m] of entries) {
            expect(read(dir, n)).toBe(v);
            expect(lstatSync(join(dir, DATA_NAME, n)).mode & 0o777).toBe(m);
            expect(readlinkSync(join(dir, n))).toBe(`${DATA_NAME}/${n}`);
          }
          expect(generations(dir)).toEqual([readlinkSync(join(dir, DATA_NAME))]);
          expect(readdirSync(dir).filter((e) => e.startsWith("..secretwrap-staging"))).toEqual([]);
        }
      }),
      { numRuns: 40 },
    );
  });
});
