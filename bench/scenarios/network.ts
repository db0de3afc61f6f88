// Scenarios 2 and 3: time to exec with 50 secrets in 10 paths while every response of the fake
// provider takes 20 ms, interleaved with two references measured in the same loop: secretwrap's own
// start-up (scenario 1's file run, the "startup" of the target) and the same provider with no injected
// latency (what the SDK and local work cost, so the rest is waiting on round trips).
import { LATENCY_MS, ROUNDS } from "../config.ts";
import { secretwrapRun } from "../commands.ts";
import type { FileFixture } from "../fixtures.ts";
import { interleave } from "../interleave.ts";
import type { NetworkTarget } from "../providers/target.ts";
import { failedRow, missBy, missIf, type RequestRow, type Row } from "../report.ts";
import { countByKind, mark, sameCounts, sentSince, waves } from "../requests.ts";
import { timeCommand } from "../spawn.ts";
import { summarize } from "../stats.ts";

export interface TargetPair {
  /** Every response delayed by LATENCY_MS. */
  readonly slow: NetworkTarget;
  /** The same secrets with no injected latency. */
  readonly fast: NetworkTarget;
}

interface RunLog {
  readonly counts: Record<string, number>;
  readonly waves: number;
}

const timeTarget = (t: NetworkTarget): Promise<number> =>
  timeCommand(secretwrapRun({ env: t.env, args: t.args, cwd: t.cwd }));

/** The ideal request shape, e.g. "login 1, mount detection 2, read 10". */
export function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
}

export interface NetworkResult {
  readonly rows: Row[];
  readonly requests: RequestRow;
}

/** As measure(), but a provider that fails is reported as a MISS and the bench goes on. */
export async function networkScenario(pair: TargetPair, files: FileFixture): Promise<NetworkResult> {
  try {
    return await measure(pair, files);
  } catch (error) {
    const scenario = pair.slow.name === "vault" ? "2" : "3";
    return {
      rows: [failedRow(scenario, `${pair.slow.name}: time to exec, 50 secrets in 10 paths`, error)],
      requests: {
        provider: pair.slow.name,
        counts: {},
        expected: describeCounts(pair.slow.expected),
        waves: "—",
        stable: false,
        pass: false,
      },
    };
  }
}

async function measure(pair: TargetPair, files: FileFixture): Promise<NetworkResult> {
  const { slow, fast } = pair;
  const logs: RunLog[] = [];
  const samples = await interleave(
    [
      {
        label: "slow",
        run: async (round) => {
          const before = mark(slow.servers);
          const ms = await timeTarget(slow);
          const sent = sentSince(slow.servers, before);
          if (round >= 0)
            logs.push({ counts: countByKind(sent, slow.classify), waves: waves(sent, LATENCY_MS) });
          return ms;
        },
      },
      { label: "fast", run: () => timeTarget(fast) },
      { label: "startup", run: () => timeCommand(secretwrapRun({ env: files.declared, cwd: files.dir })) },
    ],
    ROUNDS,
  );
  const s = summarize(samples.get("slow") ?? []);
  const f = summarize(samples.get("fast") ?? []);
  const startup = summarize(samples.get("startup") ?? []).median;
  const isVault = slow.name === "vault";
  const limit = isVault ? 150 : startup + 3 * LATENCY_MS;
  const waveCounts = logs.map((l) => l.waves);
  const first = logs[0]?.counts ?? {};
  const stable = logs.every((l) => sameCounts(l.counts, first));
  const minWaves = Math.min(...waveCounts);
  const maxWaves = Math.max(...waveCounts);
  return {
    rows: [
      {
        scenario: isVault ? "2" : "3",
        measure: `${slow.name}: time to exec, 50 secrets in 10 paths, +${LATENCY_MS} ms per response`,
        summary: s,
        unit: "ms",
        derived: `startup ${startup.toFixed(1)} + ${(s.median - startup).toFixed(1)} ms`,
        target: isVault ? "≤ 150 ms" : `≤ startup + 3 × ${LATENCY_MS} = ${limit.toFixed(1)} ms`,
        pass: s.median <= limit,
        ...missIf(missBy(s.median, limit, "ms")),
      },
      {
        scenario: isVault ? "2" : "3",
        measure: `${slow.name}: the same with no injected latency`,
        summary: f,
        unit: "ms",
        derived: `startup + ${(f.median - startup).toFixed(1)} ms (SDK load, TLS, local work)`,
      },
    ],
    requests: {
      provider: slow.name,
      counts: first,
      expected: describeCounts(slow.expected),
      waves: minWaves === maxWaves ? String(minWaves) : `${minWaves}–${maxWaves}`,
      stable,
      pass: stable && sameCounts(first, slow.expected),
    },
  };
}
