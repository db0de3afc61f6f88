// Scenarios 2 and 3: time to exec with 50 secrets in 10 paths while every response of the fake
// provider takes 20 ms, interleaved with references measured in the same loop: secretwrap's own
// start-up (scenario 1's file run, the "startup" of the target), the same provider with no injected
// latency (what the SDK and local work cost, so the rest is waiting on round trips), and the floor:
// the provider's official SDK alone doing the same job (bench/sdk-floors.ts), with and without
// latency, so that secretwrap minus the floor is what secretwrap's own code costs. Issue #17's targets
// are ratios to that floor (FLOOR_TARGETS), the headline of each row and of its bench/results.json
// record, with the time from spawn to the first request each sent.
import { LATENCY_MS, ROUNDS } from "../config.ts";
import { sdkFloor, secretwrapRun } from "../commands.ts";
import type { FileFixture } from "../fixtures.ts";
import { interleave } from "../interleave.ts";
import { describeRatio, ratioRecord } from "../records.ts";
import type { NetworkTarget } from "../providers/target.ts";
import { failedRow, missBy, missIf, type RequestRow, type Row } from "../report.ts";
import { countByKind, mark, sameCounts, sentSince, waves } from "../requests.ts";
import { timeCommand, type Command } from "../spawn.ts";
import { summarize, type Summary } from "../stats.ts";

/** Issue #17: time to exec with latency, at most this many times the provider's floor. */
const FLOOR_TARGETS: Readonly<Record<string, number>> = { awssecrets: 0.9 };
const DEFAULT_FLOOR_TARGET = 1.0;

export interface TargetPair {
  /** Every response delayed by LATENCY_MS. */
  readonly slow: NetworkTarget;
  /** The same secrets with no injected latency. */
  readonly fast: NetworkTarget;
}

interface RunLog {
  readonly counts: Record<string, number>;
  readonly waves: number;
  /** From spawn to the first request the fake received (its clock is Date.now()). */
  readonly firstMs: number;
}

const runTarget = (t: NetworkTarget): Command => secretwrapRun({ env: t.env, args: t.args, cwd: t.cwd });

/** Times one run against `target`; in measured rounds, notes in `logs` what it sent. */
async function timeLogged(
  target: NetworkTarget,
  command: Command,
  round: number,
  logs?: RunLog[],
): Promise<number> {
  const before = mark(target.servers);
  const started = Date.now();
  const ms = await timeCommand(command);
  if (logs !== undefined && round >= 0) {
    const sent = sentSince(target.servers, before);
    const firstMs = (sent[0]?.request.time ?? Number.NaN) - started;
    logs.push({ counts: countByKind(sent, target.classify), waves: waves(sent, LATENCY_MS), firstMs });
  }
  return ms;
}

/** The ideal request shape, e.g. "login 1, mount detection 2, read 10". */
export function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
}

/** What the logged runs sent: the first run's counts, whether every run sent the same, the waves. */
function shapeOf(logs: readonly RunLog[]): {
  counts: Record<string, number>;
  stable: boolean;
  waves: string;
} {
  const counts = logs[0]?.counts ?? {};
  const waveCounts = logs.map((l) => l.waves);
  const min = Math.min(...waveCounts);
  const max = Math.max(...waveCounts);
  return {
    counts,
    stable: logs.every((l) => sameCounts(l.counts, counts)),
    waves: min === max ? String(min) : `${min}–${max}`,
  };
}

/** "same requests as secretwrap", or the kinds whose counts differ, e.g. "challenge 10 (secretwrap 1)". */
function compareShapes(
  floor: Readonly<Record<string, number>>,
  own: Readonly<Record<string, number>>,
): string {
  if (sameCounts(floor, own)) return "same requests as secretwrap";
  const kinds = [...new Set([...Object.keys(own), ...Object.keys(floor)])];
  const differ = kinds
    .filter((k) => floor[k] !== own[k])
    .map((k) => `${k} ${floor[k] ?? 0} (secretwrap ${own[k] ?? 0})`);
  return `requests differ: ${differ.join(", ")}`;
}

export interface NetworkResult {
  readonly rows: Row[];
  /** secretwrap's requests, then the floor's (a reference without a verdict). */
  readonly requests: RequestRow[];
}

/** As measure(), but a provider that fails is reported as a MISS and the bench goes on. */
export async function networkScenario(
  pair: TargetPair,
  files: FileFixture,
  floors: string,
): Promise<NetworkResult> {
  try {
    return await measure(pair, files, floors);
  } catch (error) {
    const scenario = pair.slow.name === "vault" ? "2" : "3";
    return {
      rows: [failedRow(scenario, `${pair.slow.name}: time to exec, 50 secrets in 10 paths`, error)],
      requests: [
        {
          provider: pair.slow.name,
          counts: {},
          expected: describeCounts(pair.slow.expected),
          waves: "—",
          stable: false,
          pass: false,
        },
      ],
    };
  }
}

async function measure(pair: TargetPair, files: FileFixture, floors: string): Promise<NetworkResult> {
  const { slow, fast } = pair;
  const logs: RunLog[] = [];
  const floorLogs: RunLog[] = [];
  // A floor that failed once is reported and not run again: secretwrap's own rows still stand.
  let floorFailure: unknown;
  const floor = (target: NetworkTarget, log?: RunLog[]) => async (round: number) => {
    if (floorFailure !== undefined) return Number.NaN;
    try {
      return await timeLogged(target, sdkFloor(floors, target), round, log);
    } catch (error) {
      floorFailure = error;
      return Number.NaN;
    }
  };
  const samples = await interleave(
    [
      { label: "slow", run: (round) => timeLogged(slow, runTarget(slow), round, logs) },
      { label: "fast", run: () => timeCommand(runTarget(fast)) },
      { label: "startup", run: () => timeCommand(secretwrapRun({ env: files.declared, cwd: files.dir })) },
      { label: "floor", run: floor(slow, floorLogs) },
      { label: "floor fast", run: floor(fast) },
    ],
    ROUNDS,
  );
  const s = summarize(samples.get("slow") ?? []);
  const f = summarize(samples.get("fast") ?? []);
  const startup = summarize(samples.get("startup") ?? []).median;
  const isVault = slow.name === "vault";
  const scenario = isVault ? "2" : "3";
  const targetRatio = FLOOR_TARGETS[slow.name] ?? DEFAULT_FLOOR_TARGET;
  const own = shapeOf(logs);
  const slowMeasure = `${slow.name}: time to exec, 50 secrets in 10 paths, +${LATENCY_MS} ms per response`;
  /** The headline: the ratio to the floor measured in the same loop, with the floor shown. */
  const slowRow = (fl: Summary, floorLogs: readonly RunLog[]): Row => {
    const record = ratioRecord({
      scenario,
      provider: slow.name,
      variant: `+${LATENCY_MS} ms per response`,
      secretwrap: s,
      floor: fl,
      floorName: "official SDK alone",
      targetRatio,
      firstRequest: {
        secretwrap: summarize(logs.map((l) => l.firstMs)).median,
        floor: summarize(floorLogs.map((l) => l.firstMs)).median,
      },
    });
    return {
      scenario,
      measure: slowMeasure,
      summary: s,
      unit: "ms",
      derived: `${describeRatio(record)}; first request at ${record.first_request_ms?.secretwrap.toFixed(1) ?? "?"} ms (floor ${record.first_request_ms?.floor.toFixed(1) ?? "?"} ms); startup ${startup.toFixed(1)} ms`,
      target: `≤ ${targetRatio.toFixed(2)}× its floor`,
      pass: record.pass === true,
      ...missIf(missBy(record.ratio, targetRatio, "×")),
      record,
    };
  };
  const fastRow: Row = {
    scenario,
    measure: `${slow.name}: the same with no injected latency`,
    summary: f,
    unit: "ms",
    derived: `startup + ${(f.median - startup).toFixed(1)} ms (SDK load, TLS, local work)`,
  };
  const ownRequests: RequestRow = {
    provider: slow.name,
    counts: own.counts,
    expected: describeCounts(slow.expected),
    waves: own.waves,
    stable: own.stable,
    pass: own.stable && sameCounts(own.counts, slow.expected),
  };
  const floorMeasure = `${slow.name}: the official SDK alone (bundled minimal script, all paths in parallel)`;
  if (floorFailure !== undefined)
    return {
      rows: [
        failedRow(scenario, slowMeasure, floorFailure),
        failedRow(scenario, floorMeasure, floorFailure),
        fastRow,
      ],
      requests: [ownRequests],
    };

  const fl = summarize(samples.get("floor") ?? []);
  const ff = summarize(samples.get("floor fast") ?? []);
  const shape = shapeOf(floorLogs);
  const fastRecord = ratioRecord({
    scenario,
    provider: slow.name,
    variant: "no injected latency",
    secretwrap: f,
    floor: ff,
    floorName: "official SDK alone",
  });
  return {
    rows: [
      slowRow(fl, floorLogs),
      {
        scenario,
        measure: `${floorMeasure}, +${LATENCY_MS} ms per response`,
        summary: fl,
        unit: "ms",
        derived: [
          `secretwrap − floor = ${(s.median - fl.median).toFixed(1)} ms`,
          compareShapes(shape.counts, own.counts),
        ].join("; "),
      },
      { ...fastRow, record: fastRecord },
      {
        scenario,
        measure: `${slow.name}: the official SDK alone, no injected latency`,
        summary: ff,
        unit: "ms",
        derived: `secretwrap ${describeRatio(fastRecord)}; secretwrap − floor = ${(f.median - ff.median).toFixed(1)} ms (both with no latency)`,
      },
    ],
    requests: [
      ownRequests,
      // A reference: the floor does what the SDK does by default, which need not be the ideal.
      {
        provider: `${slow.name}, official SDK alone (floor)`,
        counts: shape.counts,
        expected: describeCounts(slow.expected),
        waves: shape.waves,
        stable: shape.stable,
      },
    ],
  };
}
