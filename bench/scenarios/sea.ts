// Scenario 5: the single executable against the bundle. Size: the executable (Node included) against
// what the npm package ships (bin/ + dist/, which also needs a Node runtime in the image). Start-up:
// scenario 1's run through each, interleaved with `node -e 0` (issue #17's target for the executable:
// ≤ 1.5× node -e 0). The executable carries its own V8 code cache (build-sea.mjs, useCodeCache).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { NODE, REPO, ROUNDS, SEA } from "../config.ts";
import { bareNode, secretwrapRun } from "../commands.ts";
import type { FileFixture } from "../fixtures.ts";
import { interleave } from "../interleave.ts";
import { describeRatio, ratioRecord } from "../records.ts";
import { missBy, missIf, type Row } from "../report.ts";
import { timeCommand } from "../spawn.ts";
import { summarize } from "../stats.ts";

const MB = 1e6;
/** Issue #17: the single executable's file run, at most this many times `node -e 0`. */
const SEA_TARGET = 1.5;

function treeBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + treeBytes(join(path, entry)), 0);
}

/**
 * Builds dist-sea/secretwrap unless it is newer than its inputs, under the lock the test suites use,
 * so a suite building it at the same time is waited for instead of raced. Returns why it failed.
 */
function ensureSea(): string | undefined {
  mkdirSync(join(REPO, ".cache"), { recursive: true });
  const built = spawnSync(
    "flock",
    [join(REPO, ".cache/sea.lock"), NODE, join(REPO, "scripts/build-sea.mjs"), "--if-stale"],
    { cwd: REPO, encoding: "utf8", timeout: 300_000 },
  );
  if (built.status === 0) return undefined;
  return `build:sea failed (${built.status ?? built.signal}): ${(built.stderr + built.stdout).slice(-500)}`;
}

export async function seaScenario(files: FileFixture): Promise<Row[]> {
  const failed = ensureSea();
  if (failed !== undefined) return [{ scenario: "5", measure: "single executable", value: failed, unit: "" }];
  const cwd = files.dir;
  const samples = await interleave(
    [
      { label: "sea", run: () => timeCommand(secretwrapRun({ bin: SEA, env: files.declared, cwd })) },
      { label: "bundle", run: () => timeCommand(secretwrapRun({ env: files.declared, cwd })) },
      { label: "node", run: () => timeCommand(bareNode(cwd)) },
    ],
    ROUNDS,
  );
  const sea = summarize(samples.get("sea") ?? []);
  const bundle = summarize(samples.get("bundle") ?? []);
  const node = summarize(samples.get("node") ?? []);
  const seaBytes = statSync(SEA).size;
  const packageBytes = treeBytes(join(REPO, "dist")) + treeBytes(join(REPO, "bin"));
  const nodeBytes = statSync(NODE).size;
  const file = { scenario: "5", provider: "file", floor: node, floorName: "node -e 0" };
  const seaRecord = ratioRecord({
    ...file,
    variant: "single executable",
    secretwrap: sea,
    targetRatio: SEA_TARGET,
  });
  const bundleRecord = ratioRecord({ ...file, variant: "bundle", secretwrap: bundle });
  return [
    {
      scenario: "5",
      measure: "size: dist-sea/secretwrap (Node 24 inside)",
      value: `${(seaBytes / MB).toFixed(1)} MB`,
      unit: "MB",
      derived: `${(seaBytes / (packageBytes + nodeBytes)).toFixed(2)}× bundle + node binary`,
    },
    {
      scenario: "5",
      measure: "size: the bundle (bin/ + dist/), plus the node binary it needs",
      value: `${(packageBytes / MB).toFixed(1)} MB + ${(nodeBytes / MB).toFixed(1)} MB`,
      unit: "MB",
    },
    {
      scenario: "5",
      measure: "start-up: single executable, scenario 1's run",
      summary: sea,
      unit: "ms",
      derived: `${describeRatio(seaRecord)}; ${(sea.median / bundle.median).toFixed(2)}× bundle`,
      target: `≤ ${SEA_TARGET}× node -e 0`,
      pass: seaRecord.pass === true,
      ...missIf(missBy(seaRecord.ratio, SEA_TARGET, "×")),
      record: seaRecord,
    },
    {
      scenario: "5",
      measure: "start-up: bundle (bin/secretwrap), same run",
      summary: bundle,
      unit: "ms",
      derived: describeRatio(bundleRecord),
      record: bundleRecord,
    },
  ];
}
