// npm run bench: every scenario of issue 8, interleaved with its baselines, printed and written to
// bench/RESULTS.md, with one record per variant measured against its floor in bench/results.json
// (issue 17, bench/records.ts). Run with the repo's Node 24 after `npm run build`:
//   node_modules/node/bin/node bench/run.ts          (BENCH_ROUNDS=N for more rounds)
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestPki } from "../test/servers/tls.ts";
import { packageWithoutCompileCache, warmCompileCache } from "./compile-cache.ts";
import { LATENCY_MS, REPO } from "./config.ts";
import { fileFixture } from "./fixtures.ts";
import { describeMachine, load } from "./machine.ts";
import { awsTarget } from "./providers/aws.ts";
import { azureTarget } from "./providers/azure.ts";
import { gcpTarget } from "./providers/gcp.ts";
import type { NetworkTarget } from "./providers/target.ts";
import { vaultTarget } from "./providers/vault.ts";
import { recordsOf, writeResultsJson } from "./records.ts";
import type { RequestRow, Row } from "./report.ts";
import { rowsTable, requestsTable } from "./report.ts";
import { renderResults } from "./results.ts";
import { KEPT_SECTIONS, currentWatchSection, withWatchSection } from "./watch-section.ts";
import { networkScenario, type TargetPair } from "./scenarios/network.ts";
import { seaScenario } from "./scenarios/sea.ts";
import { startupScenario } from "./scenarios/startup.ts";
import { superviseScenario } from "./scenarios/supervise.ts";
import { buildSdkFloors } from "./sdk-floors.ts";
import { removeWorkdirs, scratch } from "./workdir.ts";

if (!existsSync(join(REPO, "dist/bin.js"))) throw new Error("dist/ is missing: run `npm run build` first");

const started = Date.now();
const machine = describeMachine();
const loadBefore = load();
/** The whole line (1, 5 and 15 minutes, runnable/total tasks): other helpers' suites share these cores. */
const loadavgLine = (): string => readFileSync("/proc/loadavg", "utf8").trim();
const loadavgBefore = loadavgLine();
const pki = createTestPki();
const targets: NetworkTarget[] = [];
const step = (name: string): void =>
  console.error(`bench: ${name} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

/** The provider at LATENCY_MS and, for reference, at no latency, each with its own fixtures dir. */
async function pair(make: (latencyMs: number, cwd: string) => Promise<NetworkTarget>): Promise<TargetPair> {
  const slow = await make(LATENCY_MS, scratch("slow"));
  const fast = await make(0, scratch("fast"));
  targets.push(slow, fast);
  return { slow, fast };
}

try {
  const files = fileFixture();
  const rows: Row[] = [];
  const requests: RequestRow[] = [];

  // The bundle as an image build leaves it: its compile cache filled from this dist/.
  warmCompileCache();
  const uncached = packageWithoutCompileCache();

  step("scenario 1: start-up against node -e 0, dotenvx and env-cmd");
  rows.push(...(await startupScenario(files, uncached)));

  step("scenarios 2 and 3: bundling the floors (each official SDK alone)");
  const floors = buildSdkFloors(scratch("floors"));
  const pairs = [
    await pair((ms, cwd) => vaultTarget(pki, ms, cwd)),
    await pair(awsTarget),
    await pair(gcpTarget),
    await pair((ms, cwd) => azureTarget(pki, ms, cwd)),
  ];
  for (const p of pairs) {
    step(`scenario ${p.slow.name === "vault" ? 2 : 3}: ${p.slow.name}, 50 secrets in 10 paths`);
    const result = await networkScenario(p, files, floors);
    rows.push(...result.rows);
    requests.push(...result.requests);
  }

  step("scenario 4: memory and signal forwarding with --supervise");
  rows.push(
    ...(await superviseScenario(
      files,
      pairs.map((p) => p.fast),
    )),
  );

  step("scenario 5: single executable against the bundle");
  rows.push(...(await seaScenario(files)));

  const loadavgAfter = loadavgLine();
  const results = {
    machine,
    loadBefore,
    loadAfter: load(),
    loadavg: { before: loadavgBefore, after: loadavgAfter },
    seconds: (Date.now() - started) / 1000,
    rows,
    requests,
  };
  console.log([...rowsTable(rows), "", ...requestsTable(requests)].join("\n"));
  // "Watch mode (#15)" is written by `npm run bench:watch` (bench/watch.ts), the #17 reading by hand:
  // both kept as they are.
  const resultsMd = join(REPO, "bench/RESULTS.md");
  let rendered = renderResults(results);
  for (const title of KEPT_SECTIONS) {
    const kept = currentWatchSection(resultsMd, title);
    if (kept !== undefined) rendered = withWatchSection(rendered, kept, title);
  }
  writeFileSync(resultsMd, rendered);
  step("wrote bench/RESULTS.md");
  writeResultsJson(join(REPO, "bench/results.json"), {
    machine,
    loadavg: results.loadavg,
    records: recordsOf(rows),
  });
  step("wrote bench/results.json");
} finally {
  await Promise.all(targets.map((t) => t.close()));
  rmSync(pki.dir, { recursive: true, force: true });
  removeWorkdirs();
}
