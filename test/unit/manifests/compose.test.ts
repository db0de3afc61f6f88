// examples/compose/compose.yaml: the Compose secrets are wired to the references that name them, the
// services have the production shape, and no value is a secret literal. (test/e2e/compose-example.test.ts
// resolves the app's references with the built CLI.)
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRef } from "../../../src/config/ref.ts";
import { composeFile, serviceEnvironment, serviceSecretTargets, type ComposeService } from "./compose.ts";
import { credentialShape, envValueProblem, imageProblem, REPO } from "./rules.ts";

const FILE = join(REPO, "examples/compose/compose.yaml");
const compose = composeFile(FILE);
const services = Object.entries(compose.services);

/** /run/secrets/NAME (what Compose mounts) named by a file reference or a plain _FILE path. */
function mountedSecretNamed(name: string, value: string): string | undefined {
  let path: string | undefined;
  if (value.startsWith("ref+file://")) path = parseRef(value).locator;
  else if (name.endsWith("_FILE") && value.startsWith("/")) path = value;
  if (path === undefined) return undefined;
  return path.startsWith("/run/secrets/") ? path : undefined;
}

/** The service runs secretwrap: built from Dockerfile.example (its ENTRYPOINT) or says so itself. */
function runsSecretwrap(service: ComposeService): boolean {
  const entrypoint = service.entrypoint;
  if (entrypoint !== undefined) return [entrypoint].flat().some((w) => /(^|\/)secretwrap(\s|$)/.test(w));
  return service.build?.dockerfile === "Dockerfile.example";
}

describe("examples/compose/compose.yaml", () => {
  it("has the local service and one with a cloud provider, behind a profile", () => {
    expect(services.map(([name]) => name)).toEqual(["app", "app-aws"]);
    expect(compose.services["app-aws"]?.profiles).toEqual(["aws"]);
  });

  it("every top-level secret is a file that exists", () => {
    const secrets = Object.entries(compose.secrets ?? {});
    expect(secrets.length).toBeGreaterThan(0);
    for (const [name, secret] of secrets) {
      expect(secret.file, name).toBeDefined();
      expect(existsSync(resolve(dirname(FILE), secret.file ?? "")), name).toBe(true);
    }
  });

  describe.each(services)("service %s", (_name, service) => {
    const env = serviceEnvironment(service);
    const targets = serviceSecretTargets(service);

    it("runs as a non-root user, read-only, without capabilities or privilege gain", () => {
      expect(service.user).toMatch(/^[1-9]\d*(:\d+)?$/);
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toContain("ALL");
      expect(service.security_opt).toContain("no-new-privileges:true");
    });

    it("pins its image (a version, or a local build of it)", () => {
      if (service.build === undefined) expect(imageProblem(service.image ?? "")).toBeUndefined();
      else
        expect(existsSync(resolve(dirname(FILE), service.build.context, service.build.dockerfile))).toBe(
          true,
        );
    });

    it("holds no secret literal, and references only where secretwrap resolves them", () => {
      const problems = Object.entries(env).flatMap(([name, value]) => envValueProblem(name, value) ?? []);
      expect(problems).toEqual([]);
      if (Object.values(env).some((v) => v.startsWith("ref+"))) expect(runsSecretwrap(service)).toBe(true);
      for (const volume of service.volumes ?? []) expect(credentialShape(volume)).toBeUndefined();
    });

    it("every /run/secrets path it names is a secret it mounts, declared at the top level", () => {
      for (const [name, value] of Object.entries(env)) {
        const path = mountedSecretNamed(name, value);
        if (path === undefined) continue;
        const target = targets.get(path);
        expect(target, `${name} names ${path}, which the service does not mount`).toBeDefined();
        expect(compose.secrets?.[target ?? ""], `${name}: secret ${target} is not declared`).toBeDefined();
      }
    });

    it("every secret it mounts is used by a reference", () => {
      const named = new Set(
        Object.entries(env).flatMap(([name, value]) => mountedSecretNamed(name, value) ?? []),
      );
      for (const path of targets.keys()) expect(named, path).toContain(path);
    });
  });
});
