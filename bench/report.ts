// The results as rows, printed to the console and written to bench/RESULTS.md as markdown tables.
import type { ResultRecord } from "./records.ts";
import type { Summary } from "./stats.ts";

export interface Row {
  readonly scenario: string;
  readonly measure: string;
  /** Timed rows: the samples' summary (the median is the headline). */
  readonly summary?: Summary;
  /** Rows that are one number (a size, a count): already formatted. */
  readonly value?: string;
  readonly unit: string;
  /** A ratio or the arithmetic behind the target. */
  readonly derived?: string;
  readonly target?: string;
  /** Undefined: a reference line with no target of its own. */
  readonly pass?: boolean;
  /** For a MISS: by how much (see missBy). */
  readonly miss?: string;
  /** Its record in bench/results.json (records.ts), for a variant measured against its floor. */
  readonly record?: ResultRecord;
}

export interface RequestRow {
  readonly provider: string;
  /** Requests of one run by kind, e.g. { login: 1, "mount detection": 2, read: 10 }. */
  readonly counts: Readonly<Record<string, number>>;
  readonly expected: string;
  /** Sequential waves of requests (a new wave starts after a gap of half the latency); "2–3" if it varied. */
  readonly waves: string;
  /** True when every measured run sent exactly the same requests. */
  readonly stable: boolean;
  readonly pass?: boolean;
}

/** "12.3 ms (15%) over the target", or undefined when within it. */
export function missBy(actual: number, limit: number, unit: string): string | undefined {
  if (actual <= limit) return undefined;
  const over = unit === "×" ? `${(actual - limit).toFixed(2)}×` : `${(actual - limit).toFixed(1)} ${unit}`;
  return `${over} (${(((actual - limit) / limit) * 100).toFixed(0)}%) over the target`;
}

/** Spreads into a Row: `miss` only when there is one (exactOptionalPropertyTypes). */
export function missIf(miss: string | undefined): { miss?: string } {
  return miss === undefined ? {} : { miss };
}

/** A scenario that could not be measured: reported as a MISS with the first line of its error. */
export function failedRow(scenario: string, measure: string, error: unknown): Row {
  const message = error instanceof Error ? error.message : String(error);
  const detail = message.split("\n").find((l) => /error|✖/i.test(l)) ?? message.split("\n")[0] ?? "";
  return {
    scenario,
    measure,
    value: "failed",
    unit: "",
    derived: detail.replaceAll("|", "\\|").slice(0, 300),
    pass: false,
    miss: `could not be measured: ${detail.slice(0, 300)}`,
  };
}

const num = (n: number, unit: string): string => `${n.toFixed(n >= 100 ? 0 : 1)} ${unit}`;

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? "—" : pass ? "PASS" : "**MISS**";
}

function cells(values: readonly string[]): string {
  return `| ${values.join(" | ")} |`;
}

export function rowsTable(rows: readonly Row[]): string[] {
  const lines = [
    cells(["#", "measure", "median", "p90", "min–max", "ratio / derived", "target", "result"]),
    cells(["---", "---", "---:", "---:", "---:", "---", "---", "---"]),
  ];
  for (const r of rows) {
    const s = r.summary;
    lines.push(
      cells([
        r.scenario,
        r.measure,
        s === undefined ? (r.value ?? "") : num(s.median, r.unit),
        s === undefined ? "" : num(s.p90, r.unit),
        s === undefined ? "" : `${s.min.toFixed(1)}–${s.max.toFixed(1)}`,
        r.derived ?? "",
        r.target ?? "",
        verdict(r.pass),
      ]),
    );
  }
  return lines;
}

export function requestsTable(rows: readonly RequestRow[]): string[] {
  const lines = [
    cells(["provider", "requests per run (measured)", "expected", "waves", "same every run", "result"]),
    cells(["---", "---", "---", "---:", "---", "---"]),
  ];
  for (const r of rows) {
    const counts = Object.entries(r.counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    lines.push(cells([r.provider, counts, r.expected, r.waves, r.stable ? "yes" : "no", verdict(r.pass)]));
  }
  return lines;
}
