// The README's "Config files with secrets" example, end to end on the built CLI: examples/templates/
// parses and resolves (`check --json` lists both templates and their references), `run` renders them and
// the app reads its config and URL with the same password, and under `run --watch` a rewritten secret
// re-renders both files and the app reloads them on SIGHUP. No value on stderr.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";
import { parseJson } from "../../src/json.ts";

const CONFIG = "examples/templates/secretwrap.yaml";
const APP = "examples/templates/app.mjs";
const DB = "examples/templates/dev-secrets/db.json#";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-templates-example-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > until) throw new Error(`no ${String(pattern)} within ${timeoutMs}ms in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the templates example", () => {
  it("check --json lists both templates with their references", async () => {
    const result = await runCli(["check", "--config", CONFIG, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result.stdout) as {
      ok: boolean;
      secrets: { name: string; status: string; target: string; refs: string[] }[];
    };
    expect(report.ok).toBe(true);
    const refs = [`ref+file://./${DB}user`, `ref+file://./${DB}password`];
    expect(report.secrets.map((s) => [s.name, s.status, s.target, s.refs])).toEqual([
      ["template:app.json", "ok", "file:app.json", refs],
      ["template:database.url", "ok", "file:database.url", refs],
    ]);
  });

  it("run: the app reads its rendered config and URL, which agree on the password", async () => {
    const result = await runCli(["run", "--config", CONFIG, "--", "node", APP]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /app: loaded: user app, password of 59 characters; the URL's password matches/,
    );
    expect(result.stderr).not.toContain("not-a-real-secret");
  });

  it("run --watch: a rewritten secret re-renders both files; the app reloads them on SIGHUP", async () => {
    const root = mkdtempSync(join(work, "copy-"));
    cpSync(join(REPO, "examples/templates"), join(root, "examples/templates"), { recursive: true });
    const running = startCli(
      ["run", "--watch", "--refresh-interval", "200ms", "--config", CONFIG, "--", "node", APP],
      { cwd: root, timeoutMs: 40_000, env: { EXAMPLE_STAY: "1" } },
    );
    let stdout = "";
    let stderr = "";
    running.child.stdout?.on("data", (chunk: string) => (stdout += chunk));
    running.child.stderr?.on("data", (chunk: string) => (stderr += chunk));
    try {
      await waitFor(() => stdout, /app: loaded: .*matches/);
      const rotated = {
        version: 2,
        user: "app",
        password: "v2: 'quotes' \"and\" %percent% not-a-real-secret",
      };
      writeFileSync(join(root, "examples/templates/dev-secrets/db.json"), JSON.stringify(rotated));
      await waitFor(
        () => stdout,
        new RegExp(
          `app: SIGHUP: reloaded: user app, password of ${rotated.password.length} characters; the URL's password matches`,
        ),
      );
      // The audit lines follow the delivery.
      await waitFor(() => stderr, /rotated template:app\.json[\s\S]*rotated template:database\.url/);
    } finally {
      running.child.kill("SIGTERM");
    }
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("not-a-real-secret");
  });
});
