// examples/compose/compose.yaml, resolved by the built CLI: the `app` service's references, with each
// /run/secrets/NAME replaced by the file Compose would mount there, all resolve (`check --json`) to
// the targets the file promises. No container runtime needed; the wiring itself is checked in
// test/unit/manifests/compose.test.ts.
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJson } from "../../src/json.ts";
import { runCli } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";
import { composeFile, serviceEnvironment, serviceSecretTargets } from "../unit/manifests/compose.ts";

const FILE = join(REPO, "examples/compose/compose.yaml");

describe("the Compose example", () => {
  it("the app service's references resolve from the secrets Compose mounts", async () => {
    const compose = composeFile(FILE);
    const service = compose.services["app"];
    expect(service).toBeDefined();
    const mounted = serviceSecretTargets(service ?? {});
    const env = Object.fromEntries(
      Object.entries(serviceEnvironment(service ?? {})).map(([name, value]) => {
        for (const [target, secret] of mounted) {
          const file = compose.secrets?.[secret]?.file ?? "";
          value = value.replace(`ref+file://${target}`, `ref+file://${resolve(dirname(FILE), file)}`);
        }
        return [name, value];
      }),
    );
    const result = await runCli(["check", "--json"], { env });
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result.stdout) as { ok: boolean; secrets: { name: string; target: string }[] };
    expect(report.ok).toBe(true);
    expect(report.secrets.map((s) => [s.name, s.target]).sort()).toEqual([
      ["API_KEY", "env"],
      ["DB_PASSWORD_FILE", "file:DB_PASSWORD"],
      ["DB_USER", "env"],
    ]);
  });
});
