// The provider registry (providers/registry.ts) and what loading costs: the core reads every
// descriptor on every run, so a descriptor loads nothing heavy, and a provider's option schema and
// implementation load only when asked for, each without any other provider's.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { DESCRIPTORS } from "../../providers/registry.ts";
import { NODE24, REPO } from "../helpers/nodes.ts";

/**
 * The modules (repo-relative, or package paths) Node resolves while `script` runs, in a fresh process.
 * jsonc-parser's ESM build imports its parts without an extension, which the bundler adds and Node's
 * resolver does not: the hook adds ".js" where that is what is missing.
 */
function modulesLoadedBy(script: string): string[] {
  const run = spawnSync(
    NODE24.bin,
    [
      "--input-type=module",
      "-e",
      `import { registerHooks } from "node:module";
       const seen = [];
       registerHooks({
         resolve(specifier, context, next) {
           let resolved;
           try { resolved = next(specifier, context); }
           catch (error) {
             if (!specifier.startsWith(".") || error.code !== "ERR_MODULE_NOT_FOUND") throw error;
             resolved = next(specifier + ".js", context);
           }
           seen.push(resolved.url);
           return resolved;
         },
       });
       ${script}
       process.stdout.write(JSON.stringify(seen));`,
    ],
    { cwd: REPO, encoding: "utf8" },
  );
  expect(run.stderr).toBe("");
  return (JSON.parse(run.stdout) as string[])
    .filter((url) => url.startsWith("file://"))
    .map((url) => url.slice(`file://${REPO}/`.length));
}

describe("the provider registry", () => {
  it("has one descriptor per scheme, each in providers/<scheme>/ with its implementation and schema", () => {
    const schemes = DESCRIPTORS.map((d) => d.scheme);
    expect(new Set(schemes).size).toBe(schemes.length);
    for (const scheme of schemes) {
      for (const file of ["descriptor.ts", "index.ts", "options.ts"]) {
        expect(existsSync(join(REPO, "providers", scheme, file)), `${scheme}/${file}`).toBe(true);
      }
    }
  });

  it.each(DESCRIPTORS.filter((d) => d.ownBundle).map((d) => [d.scheme, d] as const))(
    "%s: its index.ts exports its schema too, which the build serves options() from",
    async (scheme, d) => {
      const entry = (await import(`../../providers/${scheme}/index.ts`)) as { schema?: unknown };
      expect(entry.schema).toBe(await d.options());
    },
  );

  it.each(DESCRIPTORS.map((d) => [d.scheme, d] as const))(
    "%s: its example parses and its summary is one line",
    (scheme, d) => {
      expect(parseRef(d.example).scheme).toBe(scheme);
      expect(d.summary).toMatch(/^[^\n]{1,80}$/);
    },
  );

  it("the reference grammar, the plan and the app-only variables load descriptors only: no package", () => {
    const loaded = modulesLoadedBy(
      'await import("./src/config/ref.ts"); await import("./src/plan.ts"); await import("./src/appenv.ts");',
    );
    expect(loaded).toContain("providers/registry.ts");
    expect(loaded.filter((path) => path.includes("node_modules/"))).toEqual([]);
    expect(loaded.filter((path) => /^providers\/[^/]+\/(index|options)\.ts$/.test(path))).toEqual([]);
  });

  it.each(DESCRIPTORS.map((d) => [d.scheme] as const))(
    "%s: options() and load() load that provider's folder and no other provider's",
    (scheme) => {
      const descriptors = new Set(modulesLoadedBy('await import("./providers/registry.ts");'));
      const loaded = modulesLoadedBy(
        `const { descriptorOf } = await import("./src/provider.ts");
         const d = descriptorOf(${JSON.stringify(scheme)});
         await d.options();
         await d.load();`,
      );
      expect(loaded).toContain(`providers/${scheme}/index.ts`);
      expect(loaded).toContain(`providers/${scheme}/options.ts`);
      const others = DESCRIPTORS.map((d) => d.scheme).filter((s) => s !== scheme);
      const foreign = loaded.filter(
        (path) => !descriptors.has(path) && others.some((other) => path.startsWith(`providers/${other}/`)),
      );
      expect(foreign).toEqual([]);
    },
  );
});
