// examples/kubernetes/: every document is schema-checked (kubernetes-models: the Kubernetes API's own
// OpenAPI schemas for types, enums and required fields; its TypeScript interfaces for unknown fields),
// and every container of every pod template is held to the production shape the examples promise.
// secretwrap's part of each container (command, args and SECRETWRAP_* variables) goes through
// secretwrap's real CLI parser, and each provider's secretwrap.yaml through its real config loader,
// so an example that would fail at start fails here.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as coreV1 from "kubernetes-models/v1";
import type { IContainer, IPodSpec, IServiceAccount, IVolume, IConfigMap } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseCommandLine, unknownSettings, type Command } from "../../../src/cli.ts";
import { declare } from "../../../src/config/declare.ts";
import { REVOKE_BUDGET_MS } from "../../../src/watch/revoke.ts";
import {
  dockerfileStages,
  envValueProblem,
  imageProblem,
  mountHolding,
  REPO,
  secretwrapArgv,
  yamlDocuments,
  yamlFilesUnder,
} from "./rules.ts";
import { unknownFieldProblems } from "./unknown-fields.ts";

const EXAMPLES = join(REPO, "examples/kubernetes");
const PROVIDER_FILES = yamlFilesUnder(join(EXAMPLES, "providers"));
const PATTERN_FILES = yamlFilesUnder(EXAMPLES).filter((f) => !PROVIDER_FILES.includes(f));

/** Images built from Dockerfile.example, by repository → the target they are built from. */
const DOCKERFILE_TARGETS: Readonly<Record<string, string>> = {
  "registry.example.com/myapp": "runtime",
  "registry.example.com/secretwrap": "sea",
};
const STAGES = dockerfileStages(readFileSync(join(REPO, "Dockerfile.example"), "utf8"));

/** Tokens the cluster mounts for an identity: a volume over them would hide them from secretwrap. */
const INJECTED_TOKENS = [
  "/var/run/secrets/kubernetes.io/serviceaccount/token",
  "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
  "/var/run/secrets/azure/tokens/azure-identity-token",
].flatMap((path) => [path, path.replace(/^\/var\/run\//, "/run/")]);

type Model = { new (data: unknown): { validate(): void } };
const MODELS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  v1: coreV1,
  "apps/v1": appsV1,
  "batch/v1": batchV1,
};

interface Resource {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly raw: Record<string, unknown>;
}

function resourcesOf(file: string): Resource[] {
  return yamlDocuments(file).map((doc) => {
    const raw = doc as Record<string, unknown>;
    return {
      file: relative(REPO, file),
      apiVersion: String(raw["apiVersion"]),
      kind: String(raw["kind"]),
      metadata: raw["metadata"] as Resource["metadata"],
      raw,
    };
  });
}

/** Schema check with the Kubernetes API's own schema for the kind; a kind it does not know fails. */
function schemaProblem(resource: Resource): string | undefined {
  const model = MODELS[resource.apiVersion]?.[resource.kind] as Model | undefined;
  if (model === undefined) return `${resource.apiVersion} ${resource.kind}: no schema for this kind`;
  try {
    new model(resource.raw).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The pod template of a workload (or the pod itself). */
function podSpecOf(resource: Resource): IPodSpec | undefined {
  const spec = resource.raw["spec"] as Record<string, unknown> | undefined;
  switch (resource.kind) {
    case "Pod":
      return spec as unknown as IPodSpec;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return (spec?.["template"] as { spec: IPodSpec }).spec;
    case "CronJob":
      return (spec?.["jobTemplate"] as { spec: { template: { spec: IPodSpec } } }).spec.template.spec;
    default:
      return undefined;
  }
}

interface Invocation {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly command: Command;
  readonly errors: string;
}

/**
 * What the container runs, as Kubernetes combines it with the image: `command` replaces the image's
 * ENTRYPOINT and drops its CMD; `args` alone replaces only the CMD. The image's part is known for the
 * images built from Dockerfile.example; for any other image, a container that sets no command runs
 * no secretwrap here.
 */
function argvOf(container: IContainer): string[] {
  if (container.command !== undefined) return [...container.command, ...(container.args ?? [])];
  const repository = container.image?.replace(/[:@].*$/, "") ?? "";
  const stage = STAGES.get(DOCKERFILE_TARGETS[repository] ?? "");
  return [...(stage?.entrypoint ?? []), ...(container.args ?? stage?.cmd ?? [])];
}

/** secretwrap's command line in this container, parsed by the real CLI; undefined if it runs none. */
function invocationOf(container: IContainer): Invocation | undefined {
  const argv = secretwrapArgv(argvOf(container));
  if (argv === undefined) return undefined;
  const env = Object.fromEntries(
    (container.env ?? [])
      .filter((e) => e.name.startsWith("SECRETWRAP_") && e.value !== undefined)
      .map((e) => [e.name, e.value ?? ""]),
  );
  let errors = "";
  const io = { writeOut: () => {}, writeErr: (text: string) => (errors += text), env };
  const command = parseCommandLine(argv, io);
  return { argv, env, command, errors };
}

/** Where secretwrap writes secret files in this invocation (render's --out, run's --secrets-dir). */
function writeDirOf(command: Command): string | undefined {
  if (command.kind === "render") return command.out;
  if (command.kind === "run") return command.options.secretsDir;
  return undefined;
}

const configOf = (command: Command): string | undefined =>
  "options" in command ? command.options.config : undefined;

const watching = (command: Command): boolean =>
  (command.kind === "run" && command.options.watch !== undefined) ||
  (command.kind === "render" && command.watch !== undefined);

const patterns = PATTERN_FILES.map((file) => ({ file, resources: resourcesOf(file) }));
const providers = PROVIDER_FILES.map((file) => ({ file, resources: resourcesOf(file) }));

describe("examples/kubernetes", () => {
  it("has the three patterns and an identity file for every provider", () => {
    expect(PATTERN_FILES.map((f) => basename(f)).sort()).toEqual(
      ["entrypoint.yaml", "init-copy-executable.yaml", "init-render.yaml", "sidecar-watch.yaml"].sort(),
    );
    expect(PROVIDER_FILES.map((f) => basename(f, ".yaml")).sort()).toEqual(
      ["awssecrets", "azurekeyvault", "gcpsecrets", "vault"].sort(),
    );
  });

  it.each([...patterns, ...providers].flatMap((f) => f.resources).map((r) => [r.file, r.kind, r] as const))(
    "%s %s passes the Kubernetes schema",
    (_file, _kind, resource) => {
      expect(schemaProblem(resource)).toBeUndefined();
    },
  );

  it("no document has a field its kind does not have", () => {
    const documents = [...patterns, ...providers]
      .flatMap((f) => f.resources)
      .map((r) => ({ where: r.file, apiVersion: r.apiVersion, kind: r.kind, data: r.raw }));
    expect(unknownFieldProblems(documents)).toEqual([]);
  });

  describe.each(patterns.map((p) => [relative(REPO, p.file), p.resources] as const))(
    "%s",
    (_file, resources) => {
      const workloads = resources.filter((r) => podSpecOf(r) !== undefined);

      it("holds a workload", () => {
        expect(workloads.length).toBeGreaterThan(0);
      });

      for (const workload of workloads) {
        const pod = podSpecOf(workload) as IPodSpec;
        const containers = [...(pod.initContainers ?? []), ...pod.containers];
        const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
        const invocations = new Map(containers.map((c) => [c.name, invocationOf(c)]));

        it("takes its identity from its ServiceAccount, never from the API token by default", () => {
          expect(pod.serviceAccountName).toBe("myapp");
          // The ServiceAccount of providers/ decides; only Vault's kubernetes login needs the token.
          expect(pod.automountServiceAccountToken).not.toBe(true);
          // AKS workload identity is the one provider wiring that sits on the pod.
          const template = (
            workload.raw["spec"] as { template?: { metadata?: { labels?: Record<string, string> } } }
          ).template;
          expect(template?.metadata?.labels?.["azure.workload.identity/use"]).toBe("true");
        });

        it.each(containers.map((c) => [c.name, c] as const))(
          "container %s: non-root, read-only root, no privilege gain, no capabilities, RuntimeDefault seccomp",
          (_name, container) => {
            const sc = container.securityContext ?? {};
            expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
            expect(sc.runAsUser ?? pod.securityContext?.runAsUser).not.toBe(0);
            expect(sc.readOnlyRootFilesystem).toBe(true);
            expect(sc.allowPrivilegeEscalation).toBe(false);
            expect(sc.privileged).not.toBe(true);
            expect(sc.capabilities?.drop).toContain("ALL");
            expect(sc.capabilities?.add ?? []).toEqual([]);
            expect((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type).toBe("RuntimeDefault");
          },
        );

        it.each(containers.map((c) => [c.name, c] as const))(
          "container %s: pinned image, requests and a memory limit",
          (_name, container) => {
            expect(imageProblem(container.image ?? "")).toBeUndefined();
            expect(container.resources?.requests?.["cpu"]).toBeDefined();
            expect(container.resources?.requests?.["memory"]).toBeDefined();
            expect(container.resources?.limits?.["memory"]).toBeDefined();
          },
        );

        it.each(containers.map((c) => [c.name, c] as const))(
          "container %s: no secret literal; references only where secretwrap resolves them",
          (_name, container) => {
            const problems: string[] = [];
            for (const entry of container.env ?? []) {
              if (entry.valueFrom !== undefined) continue; // a reference to a Secret or ConfigMap key
              const problem = envValueProblem(entry.name, entry.value ?? "");
              if (problem !== undefined) problems.push(problem);
              if ((entry.value ?? "").startsWith("ref+") && invocations.get(container.name) === undefined)
                problems.push(`${entry.name}: a reference in a container that does not run secretwrap`);
              if (entry.name.startsWith("SECRETWRAP_") && invocations.get(container.name) === undefined)
                problems.push(
                  `${entry.name}: a secretwrap setting in a container that does not run secretwrap`,
                );
            }
            expect(problems).toEqual([]);
          },
        );

        it.each(containers.map((c) => [c.name, c] as const))(
          "container %s: no volume hides an identity token the cluster mounts",
          (_name, container) => {
            const hiding = (container.volumeMounts ?? []).filter((m) =>
              INJECTED_TOKENS.some((token) => mountHolding([m], token) !== undefined),
            );
            expect(hiding.map((m) => m.mountPath)).toEqual([]);
          },
        );

        const secretwrapContainers = containers.filter((c) => invocations.get(c.name) !== undefined);

        it("runs secretwrap somewhere", () => {
          expect(secretwrapContainers.length).toBeGreaterThan(0);
        });

        it.each(secretwrapContainers.map((c) => [c.name, c] as const))(
          "container %s: secretwrap's command line and settings parse with the real CLI",
          (_name, container) => {
            const invocation = invocationOf(container) as Invocation;
            expect(invocation.errors).toBe("");
            expect(invocation.command.kind).toMatch(/^(run|render)$/);
            expect(unknownSettings(invocation.env)).toEqual([]);
            expect(configOf(invocation.command)).toBe("/etc/secretwrap/secretwrap.yaml");
          },
        );

        it.each(secretwrapContainers.map((c) => [c.name, c] as const))(
          "container %s: its config comes read-only from the ConfigMap every provider file defines",
          (_name, container) => {
            const config = configOf((invocationOf(container) as Invocation).command) ?? "";
            const mount = mountHolding(container.volumeMounts ?? [], config);
            expect(mount?.readOnly).toBe(true);
            const volume = volumes.get(mount?.name ?? "");
            const key = relative(mount?.mountPath ?? "/", config);
            const sources =
              volume?.projected?.sources?.map((s) => s.configMap) ??
              (volume?.configMap === undefined ? [] : [volume.configMap]);
            const required = sources
              .filter((s) => s !== undefined && s.optional !== true)
              .map((s) => s?.name);
            expect(required).toEqual(["myapp-secretwrap"]);
            for (const provider of providers) {
              const map = provider.resources.find(
                (r) => r.kind === "ConfigMap" && r.metadata.name === "myapp-secretwrap",
              );
              expect((map?.raw as IConfigMap | undefined)?.data?.[key], provider.file).toBeDefined();
            }
          },
        );

        it.each(secretwrapContainers.map((c) => [c.name, c] as const))(
          "container %s: the secrets go to a subdirectory of a memory-backed emptyDir",
          (_name, container) => {
            const dir = writeDirOf((invocationOf(container) as Invocation).command);
            expect(dir, "set --out or SECRETWRAP_SECRETS_DIR: the pod's own memory volume").toBeDefined();
            const mount = mountHolding(container.volumeMounts ?? [], dir ?? "");
            expect(mount, `${dir} is on no volume (the root filesystem is read-only)`).toBeDefined();
            expect(mount?.readOnly).not.toBe(true);
            // The emptyDir's own root is 0777: secretwrap creates the subdirectory 0700.
            expect(dir).not.toBe(mount?.mountPath);
            const volume = volumes.get(mount?.name ?? "") as IVolume;
            expect(volume.emptyDir?.medium).toBe("Memory");
            expect(volume.emptyDir?.sizeLimit).toBeDefined();
          },
        );

        it("every container that reads the rendered files mounts them read-only, by names render writes", async () => {
          const rendered = secretwrapContainers
            .map((c) => ({ container: c, command: (invocationOf(c) as Invocation).command }))
            .filter((r) => r.command.kind === "render");
          for (const { container, command } of rendered) {
            const out = writeDirOf(command) ?? "";
            const volume = mountHolding(container.volumeMounts ?? [], out)?.name;
            const names = await renderedFileNames();
            for (const reader of containers.filter((c) => c !== container)) {
              const mount = (reader.volumeMounts ?? []).find((m) => m.name === volume);
              if (mount === undefined) continue;
              expect(mount.readOnly, reader.name).toBe(true);
              for (const entry of reader.env ?? []) {
                if (!(entry.value ?? "").startsWith(out + "/")) continue;
                expect(names, `${reader.name} ${entry.name}`).toContain(relative(out, entry.value ?? ""));
              }
            }
          }
        });

        it("a one-shot render is an init container; a watching one a native sidecar with a startup probe", () => {
          for (const container of secretwrapContainers) {
            const command = (invocationOf(container) as Invocation).command;
            if (command.kind !== "render") continue;
            const init = (pod.initContainers ?? []).includes(container);
            expect(init, container.name).toBe(true);
            if (watching(command)) {
              expect(container.restartPolicy).toBe("Always");
              expect(container.startupProbe?.exec?.command).toEqual(["test", "-e", `${command.out}/..data`]);
            } else {
              expect(container.restartPolicy).toBeUndefined();
            }
          }
        });

        it("the grace period covers preStop, --stop-timeout and revocation", () => {
          const preStop = Math.max(0, ...containers.map((c) => c.lifecycle?.preStop?.sleep?.seconds ?? 0));
          let stop = 0;
          let revoke = 0;
          for (const container of secretwrapContainers) {
            const command = (invocationOf(container) as Invocation).command;
            if (command.kind === "run" && (command.options.watch !== undefined || command.options.supervise))
              stop = Math.max(stop, command.options.stopTimeoutMs / 1000);
            if (watching(command)) revoke = REVOKE_BUDGET_MS / 1000;
          }
          expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(preStop + stop + revoke);
        });
      }
    },
  );

  describe.each(providers.map((p) => [relative(REPO, p.file), p] as const))("%s", (_file, provider) => {
    const account = provider.resources.find((r) => r.kind === "ServiceAccount")?.raw as
      IServiceAccount | undefined;
    const scheme = basename(provider.file, ".yaml");

    it("declares a ServiceAccount myapp and a ConfigMap myapp-secretwrap, and nothing else", () => {
      expect(provider.resources.map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual([
        "ConfigMap/myapp-secretwrap",
        "ServiceAccount/myapp",
      ]);
    });

    it("its secretwrap.yaml loads with secretwrap's own loader, only this provider's references", async () => {
      const loaded = await loadProviderConfig(provider.resources);
      expect(loaded.schemes).toEqual([scheme]);
    });

    it("mounts the API token only for Vault's kubernetes login, and says so explicitly", async () => {
      const { options } = await loadProviderConfig(provider.resources);
      const vault = options["vault"] as { auth?: { method?: string; jwtFile?: string } } | undefined;
      const needsToken = vault?.auth?.method === "kubernetes" && vault.auth.jwtFile === undefined;
      expect(account?.automountServiceAccountToken).toBe(needsToken);
    });

    it("wires the cloud identity on the ServiceAccount", () => {
      const annotations = account?.metadata?.annotations ?? {};
      const expected: Readonly<Record<string, string | undefined>> = {
        awssecrets: "eks.amazonaws.com/role-arn",
        gcpsecrets: "iam.gke.io/gcp-service-account",
        azurekeyvault: "azure.workload.identity/client-id",
        vault: undefined,
      };
      expect(Object.keys(annotations)).toEqual(expected[scheme] === undefined ? [] : [expected[scheme]]);
      for (const value of Object.values(annotations))
        expect(envValueProblem("ANNOTATION", value)).toBeUndefined();
    });

    it("holds no credential-shaped text anywhere", () => {
      expect(envValueProblem("FILE", readFileSync(provider.file, "utf8"))).toBeUndefined();
    });
  });

  it("every provider renders the same file names (the patterns' _FILE paths hold for all of them)", async () => {
    const sets = await Promise.all(providers.map(async (p) => (await loadProviderConfig(p.resources)).files));
    for (const names of sets) expect(names).toEqual(sets[0]);
  });
});

/** One provider file's secretwrap.yaml through secretwrap's loader and planner, as `render` does. */
async function loadProviderConfig(resources: readonly Resource[]): Promise<{
  schemes: readonly string[];
  files: readonly string[];
  options: Readonly<Record<string, unknown>>;
}> {
  const map = resources.find((r) => r.kind === "ConfigMap")?.raw as IConfigMap | undefined;
  const dir = mkdtempSync(join(tmpdir(), "secretwrap-manifests-"));
  try {
    const configPath = join(dir, "secretwrap.yaml");
    writeFileSync(configPath, map?.data?.["secretwrap.yaml"] ?? "");
    const { plan, loaded } = await declare({
      command: "render",
      env: {},
      configPath,
      allowNames: [],
      allowEmpty: false,
    });
    return {
      schemes: plan.schemes,
      files: plan.targets.map((t) => (t.output.kind === "file" ? t.output.fileName : t.name)).sort(),
      options: loaded.providerOptions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file names `render` writes for the first provider file (all of them agree: tested above). */
async function renderedFileNames(): Promise<readonly string[]> {
  const first = providers[0];
  return first === undefined ? [] : (await loadProviderConfig(first.resources)).files;
}
