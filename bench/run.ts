// npm run bench: every scenario of issue 8, interleaved with its baselines, printed and written to
// bench/RESULTS.md. Run with the repo's Node 24 after `npm run build`:
//   node_modules/node/bin/node bench/run.ts          (BENCH_ROUNDS=N for more rounds)
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestPki } from "../test/servers/tls.ts";
import { LATENCY_MS, REPO } from "./config.ts";
import { fileFixture } from "./fixtures.ts";
import { describeMachine, load } from "./machine.ts";
import { awsTarget } from "./providers/aws.ts";
import { azureTarget } from "./providers/azure.ts";
import { gcpTarget } from "./providers/gcp.ts";
import type { NetworkTarget } from "./providers/target.ts";
import { vaultTarget } from "./providers/vault.ts";
import type { RequestRow, Row } from "./report.ts";
import { rowsTable, requestsTable } from "./report.ts";
import { renderResults } from "./results.ts";
import { currentWatchSection, withWatchSection } from "./watch-section.ts";
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

  step("scenario 1: start-up against node -e 0, dotenvx and env-cmd");
  rows.push(...(await startupScenario(files)));

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

  const results = {
    machine,
    loadBefore,
    loadAfter: load(),
    seconds: (Date.now() - started) / 1000,
    rows,
    requests,
  };
  console.log([...rowsTable(rows), "", ...requestsTable(requests)].join("\n"));
  // The "Watch mode (#15)" section is written by `npm run bench:watch` (bench/watch.ts): kept as it is.
  const resultsMd = join(REPO, "bench/RESULTS.md");
  const watchSection = currentWatchSection(resultsMd);
  const rendered = renderResults(results);
  writeFileSync(resultsMd, watchSection === undefined ? rendered : withWatchSection(rendered, watchSection));
  step("wrote bench/RESULTS.md");
} finally {
  await Promise.all(targets.map((t) => t.close()));
  rmSync(pki.dir, { recursive: true, force: true });
  removeWorkdirs();
}
