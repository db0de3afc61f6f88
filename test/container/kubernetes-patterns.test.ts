// The init-container patterns of examples/kubernetes/, run with podman as the kubelet would run them:
// each container's command, environment, user, read-only root and volume mounts are taken from the
// manifest itself, the init container first, then the app container on the same volumes. The images
// are Dockerfile.example's `sea` target (the init container) and an app image with glibc and no
// secretwrap. The ConfigMap is replaced by a config on the file provider; the app's own command by a
// script that reports what it got. test/unit/manifests/ checks the manifests' shape; this checks that
// they work.
import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IContainer, IPodSpec } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { REPO } from "../helpers/nodes.ts";
import { yamlDocuments } from "../unit/manifests/rules.ts";
import {
  LIMITS,
  buildExample,
  containerSkipReason,
  ensureBaseImages,
  ensureSea,
  podman,
  type BaseImages,
} from "./images.ts";

const skipReason = containerSkipReason();
if (skipReason !== undefined) console.warn(`Kubernetes pattern container tests skipped: ${skipReason}`);

const SEA_IMAGE = `localhost/secretwrap-k8s-test:sea-${randomBytes(4).toString("hex")}`;
const work = mkdtempSync(join(tmpdir(), "secretwrap-k8s-patterns-"));
chmodSync(work, 0o755);
const DATABASE_URL = canary("K8S_DB");
const TLS_KEY = canary("K8S_TLS");
let base: BaseImages;
/** The Memory emptyDirs, made in /dev/shm: removed at the end (the suite checks for leftovers). */
const memoryVolumes: string[] = [];

function podSpec(file: string): IPodSpec {
  const documents = yamlDocuments(join(REPO, "examples/kubernetes", file)) as {
    kind: string;
    spec: { template: { spec: IPodSpec } };
  }[];
  const deployment = documents.find((d) => d.kind === "Deployment");
  if (deployment === undefined) throw new Error(`${file}: no Deployment`);
  return deployment.spec.template.spec;
}

/** A host directory for each volume: memory (/dev/shm) for a Memory emptyDir, else disk. */
function volumeDirs(pod: IPodSpec): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const volume of pod.volumes ?? []) {
    const memory = volume.emptyDir?.medium === "Memory";
    const dir = mkdtempSync(join(memory ? "/dev/shm" : work, `secretwrap-k8s-${volume.name}-`));
    if (memory) memoryVolumes.push(dir);
    chmodSync(dir, 0o777); // an emptyDir is 0777
    dirs[volume.name] = dir;
  }
  // The ConfigMap: secretwrap.yaml with the same declarations as providers/*.yaml, on local files.
  const config = dirs["secretwrap-config"];
  if (config !== undefined) {
    writeFileSync(join(work, "db"), DATABASE_URL, { mode: 0o644 });
    writeFileSync(join(work, "tls"), TLS_KEY, { mode: 0o644 });
    writeFileSync(
      join(config, "secretwrap.yaml"),
      [
        "version: 1",
        "secrets:",
        "  DATABASE_URL: ref+file:///secrets/db",
        "  TLS_KEY: { ref: ref+file:///secrets/tls, file: tls.key }",
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
  }
  return dirs;
}

/** `podman run` for one container of the pod, as the manifest says; `replace` stands in for the app. */
function runArgs(
  pod: IPodSpec,
  container: IContainer,
  dirs: Record<string, string>,
  image: string,
  replace?: readonly string[],
): string[] {
  const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
  const group = container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup;
  const command = replace === undefined ? container.command : [...(container.command ?? [])];
  const args = replace ?? container.args ?? [];
  return [
    "run",
    "--rm",
    ...LIMITS,
    "--user",
    `${user ?? 0}:${group ?? 0}`,
    ...(container.securityContext?.readOnlyRootFilesystem === true ? ["--read-only"] : []),
    ...(container.securityContext?.capabilities?.drop?.includes("ALL") === true ? ["--cap-drop", "ALL"] : []),
    ...(container.securityContext?.allowPrivilegeEscalation === false
      ? ["--security-opt", "no-new-privileges"]
      : []),
    ...(container.volumeMounts ?? []).flatMap((m) => [
      "-v",
      `${dirs[m.name] ?? ""}:${m.mountPath}${m.readOnly === true ? ":ro" : ""}`,
    ]),
    "-v",
    `${work}:/secrets:ro`,
    "-v",
    `${dirs["out"] ?? ""}:/out`,
    ...(container.env ?? []).flatMap((e) => ["-e", `${e.name}=${e.value ?? ""}`]),
    ...(command === undefined || command.length === 0 ? [] : ["--entrypoint", JSON.stringify(command)]),
    image,
    ...args,
  ];
}

/** The app's stand-in: what it got, never a value (a hash of it). */
const REPORT = [
  "sh",
  "-c",
  [
    'echo "ids=$(id -u):$(id -g)" > /out/info',
    'for v in DATABASE_URL DATABASE_URL_FILE TLS_KEY TLS_KEY_FILE; do eval "x=\\${$v:-}"; [ -n "$x" ] || continue',
    '  case "$x" in /*) echo "$v=file $(stat -c %a "$x") $(sha256sum < "$x" | cut -c1-16)" ;;',
    '  *) echo "$v=env $(printf %s "$x" | sha256sum | cut -c1-16)" ;; esac; done >> /out/info',
  ].join("\n"),
];

const hash = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16);

describe.skipIf(skipReason !== undefined)("examples/kubernetes with podman", () => {
  beforeAll(async () => {
    ensureSea();
    base = await ensureBaseImages();
    await buildExample({ tag: SEA_IMAGE, base, target: "sea" });
  }, 300_000);

  afterAll(async () => {
    await podman(["rmi", "-f", SEA_IMAGE]);
    rmSync(work, { recursive: true, force: true });
    for (const dir of memoryVolumes) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("init-render.yaml: the init container renders, the app container reads the files read-only", async () => {
    const pod = podSpec("init-render.yaml");
    const dirs = { ...volumeDirs(pod), out: mkdtempSync(join(work, "out-")) };
    chmodSync(dirs.out, 0o777);
    const [init] = pod.initContainers ?? [];
    const [app] = pod.containers;
    const rendered = await podman(runArgs(pod, init as IContainer, dirs, SEA_IMAGE));
    expect(rendered.code, rendered.stderr).toBe(0);
    const ran = await podman(runArgs(pod, app as IContainer, dirs, base.sea, REPORT));
    expect(ran.code, ran.stderr).toBe(0);
    const info = readFileSync(join(dirs.out, "info"), "utf8");
    expect(info).toContain("ids=10001:10001\n");
    expect(info).toContain(`DATABASE_URL_FILE=file 400 ${hash(DATABASE_URL)}\n`);
    expect(info).toContain(`TLS_KEY_FILE=file 400 ${hash(TLS_KEY)}\n`);
    const output = { texts: { stdout: rendered.stdout + ran.stdout, stderr: rendered.stderr + ran.stderr } };
    expect(scanForCanaries([DATABASE_URL, TLS_KEY], output)).toEqual([]);
  });

  it("init-copy-executable.yaml: the app's own image starts through the copied tini and secretwrap", async () => {
    const pod = podSpec("init-copy-executable.yaml");
    const dirs = { ...volumeDirs(pod), out: mkdtempSync(join(work, "out-")) };
    chmodSync(dirs.out, 0o777);
    const [init] = pod.initContainers ?? [];
    const [app] = pod.containers;
    const copied = await podman(runArgs(pod, init as IContainer, dirs, SEA_IMAGE));
    expect(copied.code, copied.stderr).toBe(0);
    // The app's command is the manifest's (tini -- secretwrap run --); only its args stand in for the app.
    const ran = await podman(runArgs(pod, app as IContainer, dirs, base.node, REPORT));
    expect(ran.code, ran.stderr).toBe(0);
    const info = readFileSync(join(dirs.out, "info"), "utf8");
    expect(info).toContain("ids=10001:10001\n");
    expect(info).toContain(`DATABASE_URL=env ${hash(DATABASE_URL)}\n`);
    // `file: tls.key` in the config: TLS_KEY holds the file's path.
    expect(info).toMatch(new RegExp(`^TLS_KEY=file 400 ${hash(TLS_KEY)}$`, "m"));
    expect(ran.stderr).toContain("secretwrap: resolved TLS_KEY");
    const output = { texts: { stdout: copied.stdout + ran.stdout, stderr: copied.stderr + ran.stderr } };
    expect(scanForCanaries([DATABASE_URL, TLS_KEY], output)).toEqual([]);
  });
});
