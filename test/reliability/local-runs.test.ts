// R11 of issue 13: local runs leave no secrets behind. Outside a container the default secrets dir of a
// run is gone once the app has exited; inside one, exec keeps nothing of secretwrap resident (the dir
// dies with the container's tmpfs). "Outside" is made real here, whatever this machine is: a private
// mount namespace whose root is an overlay of / that hides the container marks.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { containerMark } from "../../src/exec/container.ts";
import { canary } from "../helpers/canary.ts";
import { PROBE, probeStart, readProbe, reportedSecretsDirs, runCli, startCli } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";

// Probe reports and secret sources on /dev/shm: it is the same inside the overlay (bound in).
const shm = mkdtempSync("/dev/shm/sw-local-runs-");
const disk = mkdtempSync(join(tmpdir(), "secretwrap-local-runs-"));
afterAll(() => {
  rmSync(shm, { recursive: true, force: true });
  rmSync(disk, { recursive: true, force: true });
});

const MARK_FILES = ["/.dockerenv", "/run/.containerenv"] as const;
const MARK_VARIABLES = ["container", "KUBERNETES_SERVICE_HOST"] as const;

const CHROOT = ((): string => {
  try {
    return execFileSync("sh", ["-c", "command -v chroot"], {
      encoding: "utf8",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    }).trim();
  } catch {
    return "chroot";
  }
})();

/** Runs the rest of the command line with / an overlay that whites the container mark files out. */
function outsideContainerPrefix(): readonly string[] {
  const base = mkdtempSync(join(disk, "root-"));
  for (const d of ["upper/run", "work", "merged"]) mkdirSync(join(base, d), { recursive: true });
  const script = [
    "set -e",
    'b="$OVERLAY_BASE"',
    // A whiteout (char device 0:0) in the upper layer hides a lower file.
    ...MARK_FILES.map((f) => `mknod "$b/upper${f}" c 0 0`),
    "mount --make-rprivate /",
    'mount -t overlay overlay -o "lowerdir=/,upperdir=$b/upper,workdir=$b/work" "$b/merged"',
    'for d in proc sys dev dev/shm; do mount --rbind "/$d" "$b/merged/$d"; done',
    // By its path: the CLI's PATH (test/helpers/cli.ts) has no sbin.
    'exec "$CHROOT" "$b/merged" "$@"',
  ].join("\n");
  return [
    "env",
    `OVERLAY_BASE=${base}`,
    `CHROOT=${CHROOT}`,
    "unshare",
    "--mount",
    "--fork",
    "sh",
    "-c",
    script,
    "sh",
  ];
}

const outsideAvailable = ((): string | undefined => {
  try {
    const out = execFileSync(
      outsideContainerPrefix()[0] as string,
      [...outsideContainerPrefix().slice(1), "sh", "-c", "ls -a / /run"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    return MARK_FILES.some((f) => out.split(/\s+/).includes(f.slice(f.lastIndexOf("/") + 1)))
      ? "the overlay did not hide the container marks"
      : undefined;
  } catch (error) {
    return `no private mount namespace with an overlay root here (${(error as Error).message.split("\n")[0]})`;
  }
})();

function fileSecret(label: string): { value: string; ref: string } {
  const value = canary(label);
  const path = join(mkdtempSync(join(shm, "src-")), "secret");
  writeFileSync(path, value);
  return { value, ref: `ref+file://${path}` };
}

describe("R11: local runs leave no secrets behind", () => {
  it("R11: the container rule: any one mark makes a container, none makes a workstation (every combination)", () => {
    const marks = [...MARK_FILES, ...MARK_VARIABLES, "pid1"] as const;
    for (let set = 0; set < 1 << marks.length; set++) {
      const has = (mark: (typeof marks)[number]): boolean => (set & (1 << marks.indexOf(mark))) !== 0;
      const root = mkdtempSync(join(disk, "marks-"));
      mkdirSync(join(root, "run"));
      for (const file of MARK_FILES) if (has(file)) writeFileSync(join(root, file), "");
      const env: Record<string, string> = { PATH: "/bin" };
      // An empty variable is no mark: `container=` set to nothing says nothing.
      for (const name of MARK_VARIABLES) env[name] = has(name) ? "x" : "";
      const mark = containerMark({ root, env, pid: has("pid1") ? 1 : 4242 });
      expect(mark !== undefined, `marks ${marks.filter(has).join(",") || "none"}`).toBe(set !== 0);
      rmSync(root, { recursive: true });
    }
  });

  it.skipIf(outsideAvailable !== undefined).each(NODES)(
    "R11: outside a container, the run's default secrets dir is gone once the app has exited ($name)",
    async (node) => {
      const secret = fileSecret("LOCAL_RUN");
      const out = join(shm, `probe-outside-${node.name}.jsonl`);
      const result = await runCli(["run", "--", "node", PROBE], {
        node,
        prefix: outsideContainerPrefix(),
        env: { PROBE_OUT: out, TOKEN_FILE: secret.ref },
      });
      expect(result.code, result.stderr).toBe(0);
      const start = probeStart(readProbe(out));
      // The app did get its file while it ran…
      expect(Buffer.from(start.files?.["TOKEN_FILE"]?.base64 ?? "", "base64").toString()).toBe(secret.value);
      const dirs = reportedSecretsDirs(out);
      expect(dirs).toHaveLength(1);
      // …and nothing of it is left.
      const left = dirs.filter(existsSync);
      for (const dir of left) rmSync(dir, { recursive: true, force: true });
      expect(left).toEqual([]);
    },
  );

  it.skipIf(outsideAvailable !== undefined)(
    "R11: outside a container, a TERM at any moment of the run leaves no secrets dir behind (randomized)",
    async () => {
      // The secretwrap process of a run (resolving, supervising, or the slim supervisor it may become),
      // found by a tag in its arguments: it sits below unshare and chroot, which forward no signals.
      const secretwrapOf = (tag: string): number | undefined => {
        for (const entry of readdirSync("/proc")) {
          if (!/^\d+$/.test(entry)) continue;
          try {
            const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (basename(argv[0] ?? "") === "node" && argv.some((a) => a.includes(tag))) return Number(entry);
          } catch {
            // gone meanwhile
          }
        }
        return undefined;
      };
      const leftoversHolding = (value: string): string[] =>
        readdirSync("/dev/shm")
          .filter((d) => d.startsWith("secretwrap-"))
          .map((d) => join("/dev/shm", d))
          .filter((dir) => {
            try {
              return readdirSync(dir).some((f) => readFileSync(join(dir, f), "utf8").includes(value));
            } catch {
              return false;
            }
          });
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      let hit = 0;
      for (let trial = 0; trial < 24; trial++) {
        const secret = fileSecret("LOCAL_TERM");
        const tag = `tag-${randomUUID()}`;
        const running = startCli(["run", "--", "/bin/sh", "-c", "sleep 0.3", tag], {
          node: NODE24,
          prefix: outsideContainerPrefix(),
          env: { TOKEN_FILE: secret.ref },
        });
        // From the moment secretwrap's Node exists, a TERM at a random moment of its life: resolving,
        // writing, handing over, the app running (0.3 s).
        for (let waited = 0; secretwrapOf(tag) === undefined && waited < 5000; waited += 2) await sleep(2);
        await sleep(Math.random() * 450);
        const pid = secretwrapOf(tag);
        if (pid !== undefined) {
          hit++;
          process.kill(pid, "SIGTERM");
        }
        await running.result;
        const left = leftoversHolding(secret.value);
        for (const dir of left) rmSync(dir, { recursive: true, force: true });
        expect(left, `trial ${trial}`).toEqual([]);
      }
      // Most trials must have reached a running secretwrap, or the test proves nothing.
      expect(hit).toBeGreaterThan(12);
    },
  );

  it("R11: inside a container (marked), exec keeps nothing of secretwrap resident; the dir is the container's", async () => {
    const secret = fileSecret("CONTAINER_RUN");
    const out = join(shm, "probe-inside.jsonl");
    // The real mark where there is one (/.dockerenv here), else the environment mark.
    const marked = MARK_FILES.some((f) => existsSync(f)) ? {} : { container: "podman" };
    const result = await runCli(["run", "--", "node", PROBE], {
      node: NODE24,
      env: { PROBE_OUT: out, TOKEN_FILE: secret.ref, ...marked },
    });
    expect(result.code, result.stderr).toBe(0);
    const start = probeStart(readProbe(out));
    // exec: the app is secretwrap's own process, so no secretwrap process outlived the start.
    expect(start.pid).toBe(result.pid);
    const dirs = reportedSecretsDirs(out);
    expect(dirs.filter(existsSync)).toHaveLength(1);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
});
