// Scenario 1: `secretwrap run` with 20 file secrets against the floor (`node -e 0` on the same Node) and
// the peers that inject a dotenv file: dotenvx (Node) and env-cmd (Node). Two references split the
// difference: `secretwrap version` (what loading the CLI costs before any work) and a bare Node script
// doing the same job (what the work itself costs without secretwrap). The bundle runs as installed,
// with its compile cache warm (issue #17's target: ≤ 1.6× node -e 0); the same bundle without one is
// measured in the same loop.
import { DOTENVX, ENV_CMD, baseEnv, ROUNDS } from "../config.ts";
import { bareNode, filesFloor, secretwrapRun, secretwrapVersion } from "../commands.ts";
import type { FileFixture } from "../fixtures.ts";
import { interleave } from "../interleave.ts";
import { describeRatio, ratioRecord } from "../records.ts";
import { missBy, missIf, type Row } from "../report.ts";
import { timeCommand } from "../spawn.ts";
import { pairedRatio, summarize } from "../stats.ts";

/** Issue #17: the npm bundle's file run, at most this many times `node -e 0`. */
export const BUNDLE_TARGET = 1.6;

/** `uncached`: bin/secretwrap of a copy of the package without a compile cache (compile-cache.ts). */
export async function startupScenario(files: FileFixture, uncached: string): Promise<Row[]> {
  const cwd = files.dir;
  const samples = await interleave(
    [
      { label: "secretwrap", run: () => timeCommand(secretwrapRun({ env: files.declared, cwd })) },
      {
        label: "uncached",
        run: () => timeCommand(secretwrapRun({ bin: uncached, env: files.declared, cwd })),
      },
      { label: "node", run: () => timeCommand(bareNode(cwd)) },
      { label: "version", run: () => timeCommand(secretwrapVersion(cwd)) },
      { label: "floor", run: () => timeCommand(filesFloor(files.declared, cwd)) },
      {
        label: "dotenvx",
        run: () =>
          timeCommand({
            file: DOTENVX,
            args: ["run", "-f", files.dotenv, "--", "/bin/true"],
            env: baseEnv(),
            cwd,
          }),
      },
      {
        label: "env-cmd",
        run: () =>
          timeCommand({ file: ENV_CMD, args: ["-f", files.dotenv, "/bin/true"], env: baseEnv(), cwd }),
      },
    ],
    ROUNDS,
  );
  const [swRuns, nodeRuns, dotenvxRuns] = ["secretwrap", "node", "dotenvx"].map((l) => samples.get(l) ?? []);
  const sw = summarize(swRuns ?? []);
  const node = summarize(nodeRuns ?? []);
  const dotenvx = summarize(dotenvxRuns ?? []);
  const envCmd = summarize(samples.get("env-cmd") ?? []);
  const version = summarize(samples.get("version") ?? []);
  const floor = summarize(samples.get("floor") ?? []);
  const uncachedRuns = samples.get("uncached") ?? [];
  const cold = summarize(uncachedRuns);
  const file = { scenario: "1", provider: "file", floor: node, floorName: "node -e 0" };
  const record = ratioRecord({ ...file, variant: "bundle", secretwrap: sw, targetRatio: BUNDLE_TARGET });
  const coldRecord = ratioRecord({ ...file, variant: "bundle, no compile cache", secretwrap: cold });
  const vsNode = sw.median / node.median;
  const vsDotenvx = sw.median / dotenvx.median;
  const measure = "`secretwrap run` 20 file secrets (10 env, 10 files) → /bin/true";
  return [
    {
      scenario: "1",
      measure: `${measure}, vs node -e 0`,
      summary: sw,
      unit: "ms",
      derived: `${describeRatio(record)}; per round: ${pairedRatio(swRuns ?? [], nodeRuns ?? []).toFixed(2)}×`,
      target: `≤ ${BUNDLE_TARGET}× node -e 0`,
      pass: vsNode <= BUNDLE_TARGET,
      ...missIf(missBy(vsNode, BUNDLE_TARGET, "×")),
      record,
    },
    {
      scenario: "1",
      measure: `${measure}, the same bundle without its compile cache`,
      summary: cold,
      unit: "ms",
      derived: `${describeRatio(coldRecord)}; per round: ${pairedRatio(uncachedRuns, nodeRuns ?? []).toFixed(2)}×; the cache saves ${(cold.median - sw.median).toFixed(1)} ms`,
      record: coldRecord,
    },
    {
      scenario: "1",
      measure: `${measure}, vs dotenvx`,
      summary: sw,
      unit: "ms",
      derived: `${vsDotenvx.toFixed(2)}× dotenvx run (per round: ${pairedRatio(swRuns ?? [], dotenvxRuns ?? []).toFixed(2)}×)`,
      target: "≤ 0.25× dotenvx run",
      pass: vsDotenvx <= 0.25,
      ...missIf(missBy(vsDotenvx, 0.25, "×")),
    },
    { scenario: "1", measure: "`node -e 0` (same Node 24)", summary: node, unit: "ms" },
    {
      scenario: "1",
      measure: "`secretwrap version`: loading the CLI (launcher, core.js, commander), no run",
      summary: version,
      unit: "ms",
      derived: `${(version.median / node.median).toFixed(2)}× node -e 0; the run adds ${(sw.median - version.median).toFixed(1)} ms`,
    },
    {
      scenario: "1",
      measure: "floor: the same job in a bare Node script (bench/floors/files.mjs)",
      summary: floor,
      unit: "ms",
      derived: `${(floor.median / node.median).toFixed(2)}× node -e 0; the job adds ${(floor.median - node.median).toFixed(1)} ms to Node's start`,
    },
    {
      scenario: "1",
      measure: "`dotenvx run -f .env -- /bin/true` (20 values)",
      summary: dotenvx,
      unit: "ms",
      derived: `${(dotenvx.median / node.median).toFixed(2)}× node -e 0`,
    },
    {
      scenario: "1",
      measure: "`env-cmd -f .env /bin/true` (20 values)",
      summary: envCmd,
      unit: "ms",
      derived: `${(envCmd.median / node.median).toFixed(2)}× node -e 0; secretwrap ${(sw.median / envCmd.median).toFixed(2)}× it`,
    },
  ];
}
