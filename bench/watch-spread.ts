// Issue 15's spread target, simulated with the real schedule: 1,000 replicas started in the same second,
// each re-checking its secrets every --refresh-interval (default 5 m) ±20 % as src/watch/lifecycle.ts
// does (the first check one refreshDelay() after start, each next one a refreshDelay() after the
// previous check ended), for 2 hours of simulated time. Requests per second are histogrammed; a check
// of 50 KV v2 secrets is 50 metadata GETs sent within one second, so every ratio below is the same in
// checks or in requests. The draws are seeded (reproducible); the "expected" rate is the mean over many
// seeds, i.e. the rate an infinite fleet would see, which separates the schedule's own shape from the
// counting noise of 3.3 checks per second.
//   node_modules/node/bin/node bench/watch-spread.ts
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  firstRefreshDelay,
  REFRESH_JITTER,
  refreshDelay,
} from "../src/watch/schedule.ts";

export const REPLICAS = 1000;
export const HORIZON_S = 2 * 3600;
/** From here on the fleet is past its start-up transient: 6 intervals, 30 minutes. */
export const STEADY_FROM_S = 1800;
/** How long one check takes before the next one is timed (a 50-secret KV v2 check: tens of ms). */
const CHECK_MS = 50;
const ENVELOPE_SEEDS = 200;

/** mulberry32: a small seeded PRNG, so every run of the bench draws the same numbers. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How a replica times its first check after start; the later ones always use refreshDelay. */
export type FirstDelay = (intervalMs: number, random: () => number) => number;

/** What src/watch/lifecycle.ts does: the first check after firstRefreshDelay (the stationary residual). */
export const firstAsToday: FirstDelay = firstRefreshDelay;

/** What it did before (for comparison): the first check a normal refreshDelay after start. */
export const firstAsBefore: FirstDelay = refreshDelay;

/** Counterfactual (not in src/): the first check anywhere in one whole interval, uniformly. */
export const firstUniform: FirstDelay = (intervalMs, random) => Math.round(intervalMs * random());

/** Checks per simulated second for one fleet. */
export function simulate(first: FirstDelay, random: () => number, replicas = REPLICAS): Uint32Array {
  const perSecond = new Uint32Array(HORIZON_S);
  const horizonMs = HORIZON_S * 1000;
  for (let r = 0; r < replicas; r++) {
    let t = random() * 1000; // all started within the same second
    t += first(DEFAULT_REFRESH_INTERVAL_MS, random);
    while (t < horizonMs) {
      perSecond[Math.floor(t / 1000)]! += 1;
      t += CHECK_MS + refreshDelay(DEFAULT_REFRESH_INTERVAL_MS, random);
    }
  }
  return perSecond;
}

export interface Spread {
  readonly window: string;
  readonly seconds: number;
  readonly mean: number;
  readonly max: number;
  readonly maxAt: number;
  /** max / mean */
  readonly ratio: number;
  /** Seconds above 2× the mean. */
  readonly over2x: number;
}

function spread(
  perSecond: ArrayLike<number>,
  from: number,
  to: number,
  window: string,
  bucket = 1,
  mean?: number,
): Spread {
  const sums: number[] = [];
  for (let s = from; s + bucket <= to; s += bucket) {
    let sum = 0;
    for (let i = s; i < s + bucket; i++) sum += perSecond[i] ?? 0;
    sums.push(sum / bucket);
  }
  const m = mean ?? sums.reduce((a, b) => a + b, 0) / sums.length;
  let max = 0;
  let maxAt = from;
  sums.forEach((v, i) => {
    if (v > max) {
      max = v;
      maxAt = from + i * bucket;
    }
  });
  return {
    window,
    seconds: to - from,
    mean: m,
    max,
    maxAt,
    ratio: max / m,
    over2x: sums.filter((v) => v > 2 * m).length * bucket,
  };
}

export interface SpreadResult {
  readonly replicas: number;
  readonly intervalMs: number;
  readonly jitter: number;
  readonly horizonS: number;
  readonly steadyFromS: number;
  /** One fleet (seed 1) as today: per-second and coarser windows. */
  readonly today: readonly Spread[];
  /** Seeds 1..20 as today: the steady-state per-second max/mean of each. */
  readonly todaySeeds: { readonly min: number; readonly median: number; readonly max: number };
  /** The mean over ENVELOPE_SEEDS fleets, per second: the schedule's own shape without counting noise. */
  readonly expected: readonly Spread[];
  /** The counterfactual first delays (not in src/): whole run, expected and one fleet. */
  readonly counterfactuals: readonly Spread[];
  /** The best any uncoordinated fleet can do: each replica at a fixed 5 m period, uniform random phase. */
  readonly ideal: Spread;
}

function envelope(first: FirstDelay): Float64Array {
  const sum = new Float64Array(HORIZON_S);
  for (let seed = 1; seed <= ENVELOPE_SEEDS; seed++) {
    const one = simulate(first, seeded(1000 + seed));
    for (let i = 0; i < HORIZON_S; i++) sum[i]! += one[i]!;
  }
  return sum.map((v) => v / ENVELOPE_SEEDS);
}

/** Fixed period, random phase, no jitter: per-second counts are binomial(1000, 1/300) at best. */
function idealFleet(random: () => number): Uint32Array {
  const perSecond = new Uint32Array(HORIZON_S);
  for (let r = 0; r < REPLICAS; r++)
    for (
      let t = random() * DEFAULT_REFRESH_INTERVAL_MS;
      t < HORIZON_S * 1000;
      t += DEFAULT_REFRESH_INTERVAL_MS
    )
      perSecond[Math.floor(t / 1000)]! += 1;
  return perSecond;
}

export function spreadScenario(): SpreadResult {
  const S = STEADY_FROM_S;
  const H = HORIZON_S;
  const one = simulate(firstAsToday, seeded(1));
  const steadyMean = spread(one, S, H, "").mean;
  const today = [
    spread(one, S, H, `steady state (${S / 60}–${H / 60} min), per second`),
    spread(one, S, H, `steady state, per 10 s window`, 10),
    spread(one, S, H, `steady state, per 60 s window`, 60),
    spread(one, 0, H, `whole 2 h, per second (mean of the whole run)`),
    spread(one, 0, 720, `first 12 min, per second, against the steady mean`, 1, steadyMean),
    spread(one, 0, 720, `first 12 min, per 10 s window, against the steady mean`, 10, steadyMean),
  ];
  const ratios = Array.from({ length: 20 }, (_, i) => {
    const fleet = simulate(firstAsToday, seeded(i + 1));
    return spread(fleet, S, H, "").ratio;
  }).sort((a, b) => a - b);
  const exp = envelope(firstAsToday);
  const expSteadyMean = spread(exp, S, H, "").mean;
  const expected = [
    spread(exp, S, H, `expected rate, steady state`),
    spread(exp, 0, H, `expected rate, whole 2 h, against the steady mean`, 1, expSteadyMean),
    spread(exp, 0, 720, `expected rate, first 12 min, against the steady mean`, 1, expSteadyMean),
  ];
  const counterfactuals: Spread[] = [];
  for (const [name, first] of [
    ["first check uniform in one interval", firstUniform],
    ["before issue 15's fix: the first check one refreshDelay after start", firstAsBefore],
  ] as const) {
    const e = envelope(first);
    const m = spread(e, S, H, "").mean;
    const f = simulate(first, seeded(1));
    counterfactuals.push(
      spread(e, 0, H, `${name}: expected rate, whole 2 h`, 1, m),
      spread(f, 0, H, `${name}: one fleet, whole 2 h, per second`, 1, m),
      spread(f, 0, H, `${name}: one fleet, whole 2 h, per 10 s window`, 10, m),
    );
  }
  const idealOne = idealFleet(seeded(1));
  return {
    replicas: REPLICAS,
    intervalMs: DEFAULT_REFRESH_INTERVAL_MS,
    jitter: REFRESH_JITTER,
    horizonS: H,
    steadyFromS: S,
    today,
    todaySeeds: { min: ratios[0]!, median: ratios[10]!, max: ratios[19]! },
    expected,
    counterfactuals,
    ideal: spread(idealOne, 0, H, "fixed 5 m period, uniform random phase (no jitter), per second"),
  };
}

export function spreadTable(r: SpreadResult): string[] {
  const rows = [...r.today, ...r.expected, ...r.counterfactuals, r.ideal];
  return [
    "| window | mean checks/s | max | max at (s) | max / mean | seconds > 2× mean | target ≤ 2× |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (s) =>
        `| ${s.window} | ${s.mean.toFixed(2)} | ${s.max.toFixed(2)} | ${s.maxAt} | ${s.ratio.toFixed(2)}× | ${s.over2x} | ${s.ratio <= 2 ? "PASS" : "**MISS**"} |`,
    ),
  ];
}

if (import.meta.main) {
  const started = Date.now();
  const r = spreadScenario();
  console.log(spreadTable(r).join("\n"));
  console.log(
    `20 fleets (seeds 1–20), steady state per second, max/mean: min ${r.todaySeeds.min.toFixed(2)}×, median ${r.todaySeeds.median.toFixed(2)}×, max ${r.todaySeeds.max.toFixed(2)}× (${Date.now() - started} ms)`,
  );
}
