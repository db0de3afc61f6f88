// bench/results.json (issue #17): one record per measured variant against its floor, so every target can
// be checked from one file. Each scenario builds its records with ratioRecord() and hangs them on the
// Row it reports (Row.record); bench/run.ts writes them all. The floor of the file provider is
// `node -e 0`; of an SDK provider, its official SDK alone doing the same job (bench/floors/).
import { writeFileSync } from "node:fs";
import type { Machine } from "./machine.ts";
import type { Row } from "./report.ts";
import type { Summary } from "./stats.ts";

export interface ResultRecord {
  readonly scenario: string;
  /** file, vault, awssecrets, … */
  readonly provider: string;
  /** What was run: "bundle", "bundle, no compile cache", "single executable", "+20 ms per response", … */
  readonly variant: string;
  /** Medians, ms. */
  readonly secretwrap_ms: number;
  readonly floor_ms: number;
  /** What the floor is: "node -e 0", "official SDK alone". */
  readonly floor: string;
  /** secretwrap_ms / floor_ms. */
  readonly ratio: number;
  /** The largest ratio the issue allows, when this variant has a target. */
  readonly target_ratio?: number;
  readonly pass?: boolean;
  /** Medians of the time from spawn to the first request the fake server received. */
  readonly first_request_ms?: { readonly secretwrap: number; readonly floor: number };
  readonly rounds: number;
}

export interface RatioInput {
  readonly scenario: string;
  readonly provider: string;
  readonly variant: string;
  readonly secretwrap: Summary;
  readonly floor: Summary;
  readonly floorName: string;
  readonly targetRatio?: number;
  readonly firstRequest?: { readonly secretwrap: number; readonly floor: number };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function ratioRecord(input: RatioInput): ResultRecord {
  const ratio = input.secretwrap.median / input.floor.median;
  return {
    scenario: input.scenario,
    provider: input.provider,
    variant: input.variant,
    secretwrap_ms: round1(input.secretwrap.median),
    floor_ms: round1(input.floor.median),
    floor: input.floorName,
    ratio: round3(ratio),
    ...(input.targetRatio === undefined
      ? {}
      : { target_ratio: input.targetRatio, pass: ratio <= input.targetRatio }),
    ...(input.firstRequest === undefined
      ? {}
      : {
          first_request_ms: {
            secretwrap: round1(input.firstRequest.secretwrap),
            floor: round1(input.firstRequest.floor),
          },
        }),
    rounds: input.secretwrap.n,
  };
}

/** "1.42× node -e 0 (31.0 ms)": a ratio record as a row's headline. */
export function describeRatio(record: ResultRecord): string {
  return `${record.ratio.toFixed(2)}× ${record.floor} (${record.floor_ms.toFixed(1)} ms)`;
}

export interface ResultsFile {
  readonly machine: Machine;
  readonly loadavg: { readonly before: string; readonly after: string };
  readonly records: readonly ResultRecord[];
}

export function recordsOf(rows: readonly Row[]): ResultRecord[] {
  return rows.flatMap((row) => (row.record === undefined ? [] : [row.record]));
}

export function writeResultsJson(path: string, results: ResultsFile): void {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
