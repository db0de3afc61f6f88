// Real containers with podman, offline: base images made from what is on this machine, the single
// executable built once per run, and Dockerfile.example built from the host's bin/ dist/ dist-sea/.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { NODE24, REPO } from "../helpers/nodes.ts";

export const SEA = `${REPO}/dist-sea/secretwrap`;
/** podman as containers.md says: crun fails here, and the default ulimits cannot be raised. */
export const PODMAN = ["podman", "--runtime", "runc"];
export const LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

const BUSYBOX = "/bin/busybox";
const TINI_STATIC = "/usr/bin/tini-static";
const NPM_DIR = "/usr/lib/node_modules/npm";
/** The names Dockerfile.example's FROM lines use by default. */
export const FROM_NODE = "docker.io/library/node:24-bookworm-slim";
export const FROM_SEA = "docker.io/library/busybox:1.37-glibc";
const TEST_LABEL = "io.secretwrap.test-base";

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs podman (runc, fixed ulimits are added by callers where a container starts). */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  const [cmd, ...pre] = PODMAN as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`podman ${args.join(" ")} did not finish within ${timeoutMs}ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(
      `podman ${args.slice(0, 3).join(" ")}… exited ${result.code}\n${result.stderr.slice(-3000)}`,
    );
  }
  return result.stdout;
}

/** Why containers cannot run here, or undefined when they can. Cheap and synchronous (for skipIf). */
export function containerSkipReason(): string | undefined {
  if (process.platform !== "linux") return `containers need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "podman needs root here (rootless podman is not set up)";
  const version = spawnSync("podman", ["--version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) {
    return "podman is not installed (.ci/run installs it: apt-get install podman runc tini busybox-static)";
  }
  const runc = spawnSync("runc", ["--version"], { encoding: "utf8" });
  if (runc.error !== undefined || runc.status !== 0) return "runc is not installed (apt-get install runc)";
  for (const [path, pkg] of [
    [BUSYBOX, "busybox-static"],
    [TINI_STATIC, "tini"],
  ] as const) {
    if (!existsSync(path)) return `${path} is missing (apt-get install ${pkg})`;
  }
  const info = spawnSync(
    PODMAN[0] as string,
    [...PODMAN.slice(1), "info", "--format", "{{.Host.OCIRuntime.Name}}"],
    {
      encoding: "utf8",
    },
  );
  if (info.status !== 0)
    return `podman cannot run containers here: ${info.stderr.trim().split("\n").pop() ?? ""}`;
  return undefined;
}

/** The single executable, built at most once per test run (a lock serialises concurrent suites). */
export function ensureSea(): void {
  mkdirSync(`${REPO}/.cache`, { recursive: true });
  const result = spawnSync(
    "flock",
    [`${REPO}/.cache/sea.lock`, NODE24.bin, `${REPO}/scripts/build-sea.mjs`, "--if-stale"],
    { cwd: REPO, encoding: "utf8", timeout: 240_000 },
  );
  if (result.status !== 0) {
    throw new Error(`npm run build:sea failed (${result.status}): ${result.stderr}${result.stdout}`);
  }
}

function ldd(binary: string): string[] {
  const out = spawnSync("ldd", [binary], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`ldd ${binary} failed: ${out.stderr}`);
  return [...out.stdout.matchAll(/(\/\S+)/g)].map((m) => m[1] as string);
}

function addBusybox(root: string): void {
  mkdirSync(`${root}/bin`, { recursive: true });
  copyFileSync(BUSYBOX, `${root}/bin/busybox`);
  chmodSync(`${root}/bin/busybox`, 0o755);
  const applets = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" }).stdout.split("\n");
  for (const applet of applets) {
    if (applet !== "" && applet !== "busybox") symlinkSync("busybox", `${root}/bin/${applet}`);
  }
  mkdirSync(`${root}/usr/bin`, { recursive: true });
  symlinkSync("/bin/env", `${root}/usr/bin/env`);
  mkdirSync(`${root}/tmp`, { mode: 0o1777 });
  chmodSync(`${root}/tmp`, 0o1777);
  mkdirSync(`${root}/etc`, { recursive: true });
}

function copyLibraries(root: string, libraries: readonly string[]): void {
  for (const lib of libraries) {
    mkdirSync(root + dirname(lib), { recursive: true });
    copyFileSync(lib, root + lib); // follows the symlink, like cp -L
  }
}

async function importRootfs(root: string, name: string, changes: readonly string[]): Promise<void> {
  const tar = spawn("tar", ["-C", root, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
  const [cmd, ...pre] = PODMAN as [string, ...string[]];
  const imp = spawn(cmd, [...pre, "import", ...changes.flatMap((c) => ["--change", c]), "-", name], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  tar.stdout.pipe(imp.stdin);
  let stderr = "";
  imp.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => imp.on("close", resolve));
  if (code !== 0) throw new Error(`podman import ${name} failed: ${stderr}`);
}

export interface BaseImages {
  /** Stands in for node:24-bookworm-slim: Node 24, its libraries, busybox, npm, tini, user node (1000). */
  readonly node: string;
  /** Stands in for busybox:glibc: busybox and glibc, without Node and without libstdc++/libgcc_s. */
  readonly sea: string;
}

/**
 * Builds both base images from files on this machine; reused while those files are unchanged (the
 * tag is a hash of their sizes and times). Also tags them as Dockerfile.example's default FROM names
 * when those names are free or already ours, so a plain `podman build -f Dockerfile.example .` works.
 */
export async function ensureBaseImages(): Promise<BaseImages> {
  const nodeBin = NODE24.bin;
  const nodeLibs = ldd(nodeBin);
  const glibc = nodeLibs.filter((l) => !/libstdc\+\+|libgcc_s/.test(l));
  const inputs = [nodeBin, BUSYBOX, TINI_STATIC, `${NPM_DIR}/package.json`, ...nodeLibs];
  const key = createHash("sha256")
    .update(inputs.map((p) => `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`).join("\n"))
    .update("v1")
    .digest("hex")
    .slice(0, 16);
  const images: BaseImages = {
    node: `localhost/secretwrap-test/node:${key}`,
    sea: `localhost/secretwrap-test/busybox-glibc:${key}`,
  };
  const work = mkdtempSync(join(tmpdir(), "secretwrap-rootfs-"));
  try {
    if ((await podman(["image", "exists", images.node])).code !== 0) {
      const root = join(work, "node");
      addBusybox(root);
      mkdirSync(`${root}/usr/local/bin`, { recursive: true });
      copyFileSync(nodeBin, `${root}/usr/local/bin/node`);
      chmodSync(`${root}/usr/local/bin/node`, 0o755);
      copyLibraries(root, nodeLibs);
      // What `apt-get install tini` leaves in a Debian image.
      for (const name of ["tini", "tini-static"]) {
        copyFileSync(TINI_STATIC, `${root}/usr/bin/${name}`);
        chmodSync(`${root}/usr/bin/${name}`, 0o755);
      }
      if (existsSync(NPM_DIR)) {
        cpSync(NPM_DIR, `${root}/usr/local/lib/node_modules/npm`, { recursive: true });
        symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", `${root}/usr/local/bin/npm`);
      }
      writeFileSync(
        `${root}/etc/passwd`,
        "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
      );
      writeFileSync(`${root}/etc/group`, "root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n");
      mkdirSync(`${root}/home/node`, { recursive: true });
      mkdirSync(`${root}/root`, { mode: 0o700 });
      spawnSync("chown", ["1000:1000", `${root}/home/node`]);
      await importRootfs(root, images.node, [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `LABEL ${TEST_LABEL}=node`,
        'CMD ["node"]',
      ]);
    }
    if ((await podman(["image", "exists", images.sea])).code !== 0) {
      const root = join(work, "sea");
      addBusybox(root);
      copyLibraries(root, glibc);
      writeFileSync(
        `${root}/etc/passwd`,
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
      );
      await importRootfs(root, images.sea, [`LABEL ${TEST_LABEL}=busybox`, 'CMD ["sh"]']);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const [ours, from] of [
    [images.node, FROM_NODE],
    [images.sea, FROM_SEA],
  ] as const) {
    const label = await podman(["image", "inspect", "--format", `{{index .Labels "${TEST_LABEL}"}}`, from]);
    // Never replace a real image of that name (e.g. one pulled on a developer's machine).
    if (label.code !== 0 || label.stdout.trim() !== "") await podmanOk(["tag", ours, from]);
  }
  return images;
}

export interface BuildOptions {
  readonly tag: string;
  readonly base: BaseImages;
  readonly target?: string;
  readonly secrets?: Readonly<Record<string, string>>;
}

/** podman build of Dockerfile.example, offline, from the host-built artifacts. */
export async function buildExample(options: BuildOptions): Promise<void> {
  await podmanOk(
    [
      "build",
      "--pull=never",
      ...LIMITS,
      "--build-arg",
      "ARTIFACTS=prebuilt",
      "--build-arg",
      `NODE_IMAGE=${options.base.node}`,
      "--build-arg",
      `SEA_BASE=${options.base.sea}`,
      ...(options.target === undefined ? [] : ["--target", options.target]),
      ...Object.entries(options.secrets ?? {}).flatMap(([id, src]) => ["--secret", `id=${id},src=${src}`]),
      "-f",
      `${REPO}/Dockerfile.example`,
      "-t",
      options.tag,
      REPO,
    ],
    300_000,
  );
}
