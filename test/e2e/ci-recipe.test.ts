// docs/ci.md's smoke-test recipe, as written there: the shell of the GitHub Actions step and of the
// GitLab job are taken out of the page's YAML snippets and run with bash (as both CI systems run them:
// errexit and pipefail) against the built CLI and the file provider. All present → 0; one missing →
// 69 and a line naming it; one the job may not read → 77 and a line naming it. No value in anything
// they print.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { canary } from "../helpers/canary.ts";
import { pathFor } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";

const page = readFileSync(join(REPO, "docs/ci.md"), "utf8");
const snippets = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] ?? "") as unknown);

interface GitHubWorkflow {
  readonly jobs: Record<
    string,
    { readonly steps: readonly { readonly run?: string; readonly shell?: string }[] }
  >;
}
interface GitLabJob {
  readonly script: readonly string[];
}

function githubScript(): string {
  const workflow = snippets.find((s) => typeof s === "object" && s !== null && "jobs" in s) as GitHubWorkflow;
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const step = steps.find((s) => s.run?.includes("secretwrap check") ?? false);
  expect(step?.shell).toBe("bash");
  return step?.run ?? "";
}

function gitlabScript(): string {
  for (const snippet of snippets) {
    if (typeof snippet !== "object" || snippet === null || "jobs" in snippet) continue;
    for (const job of Object.values(snippet as Record<string, unknown>)) {
      const script = (job as Partial<GitLabJob> | null)?.script;
      if (script?.some((line) => line.includes("secretwrap check")) === true) return script.join("\n");
    }
  }
  return "";
}

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-ci-recipe-"));
chmodSync(work, 0o755); // the denied case runs as nobody: it reads the configs here
// The recipe's `mktemp` reports go here (and so away with the test), writable by nobody too.
const reports = join(work, "tmp");
mkdirSync(reports, { mode: 0o1777 });
chmodSync(reports, 0o1777);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const present = canary("CI_PRESENT");
const presentFile = join(work, "present");
writeFileSync(presentFile, present, { mode: 0o644 });
const deniedFile = join(work, "denied");
writeFileSync(deniedFile, canary("CI_DENIED"), { mode: 0o600 }); // root's: nobody may not read it

function config(name: string, extra: string): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(
    path,
    ["version: 1", "secrets:", `  API_KEY: ref+file://${presentFile}`, extra, ""].join("\n"),
    {
      mode: 0o644,
    },
  );
  return path;
}

const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;

function runRecipe(script: string, configPath: string, prefix: readonly string[] = []) {
  const argv = [...prefix, "bash", "-eo", "pipefail", "-c", script];
  const result = spawnSync(argv[0] ?? "bash", argv.slice(1), {
    cwd: work,
    encoding: "utf8",
    timeout: 30_000,
    env: {
      PATH: `${REPO}/bin:${pathFor()}`,
      HOME: work,
      TMPDIR: reports,
      LANG: "C.UTF-8",
      SECRETWRAP_CONFIG: configPath,
    },
  });
  const output = `${result.stdout}${result.stderr}`;
  expect(output).not.toMatch(/CANARY_/);
  return { code: result.status, stdout: result.stdout, output };
}

// The GitHub recipe uses jq (on GitHub's runners, and on this project's machines); where it is
// missing those cases are skipped, saying so, as the container tests do without podman.
const hasJq = spawnSync("jq", ["--version"]).status === 0;
if (!hasJq) console.warn("ci-recipe: jq is not installed: the GitHub Actions recipe is not run");

describe.each([
  ["GitHub Actions", githubScript(), "::error title=secretwrap check::", hasJq],
  ["GitLab CI", gitlabScript(), "", true],
])("docs/ci.md's %s recipe", (_ci, script, prefix, runnable) => {
  it("is in the page", () => {
    expect(script).toContain("secretwrap check --json");
  });

  it.runIf(runnable)("passes when every declared secret resolves", () => {
    const result = runRecipe(script, config("ok", ""));
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("every declared secret resolved");
  });

  it.runIf(runnable)("fails with 69 and names the missing secret", () => {
    const result = runRecipe(script, config("missing", `  DB_PASSWORD: ref+file://${work}/absent`));
    expect(result.code, result.output).toBe(69);
    expect(result.stdout).toContain(`${prefix}DB_PASSWORD: SECRET_NOT_FOUND ref+file://${work}/absent`);
    expect(result.stdout).toContain("a declared secret is missing or unusable (exit 69)");
    expect(result.stdout).not.toContain("API_KEY:");
  });

  it.runIf(runnable && isRoot && hasSetpriv)(
    "fails with 77 and names the secret the job may not read",
    () => {
      const result = runRecipe(script, config("denied", `  DB_PASSWORD: ref+file://${deniedFile}`), asNobody);
      expect(result.code, result.output).toBe(77);
      expect(result.stdout).toContain(`${prefix}DB_PASSWORD: ACCESS_DENIED ref+file://${deniedFile}`);
      expect(result.stdout).toContain("access denied: this job's identity may not read a declared secret");
    },
  );

  it.runIf(runnable)("fails with 78 and says the declarations are invalid", () => {
    const result = runRecipe(script, config("invalid", "  DB_PASSWORD: ref+nope://x"));
    expect(result.code, result.output).toBe(78);
    expect(result.stdout).toContain("the declarations are invalid");
  });
});
