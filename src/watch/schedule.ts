// Pure: when the watch does each thing. Every delay is computed from durations the service granted
// and a random draw (injectable), never from wall-clock dates, so a clock jump cannot cause a storm
// of renewals (timers run on the monotonic clock).

/** --refresh-interval's default: a rotated static secret reaches the app within about this long. */
export const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;

/** ±20 %: replicas started together spread their checks instead of hitting the provider at once. */
export const REFRESH_JITTER = 0.2;

/** The delay from one version check to the next: the interval ±20 %, uniformly. */
export function refreshDelay(intervalMs: number, random: () => number): number {
  return Math.round(intervalMs * (1 - REFRESH_JITTER + 2 * REFRESH_JITTER * random()));
}

/**
 * The delay until the first version check after start, drawn from the stationary residual of
 * refreshDelay (density P(D > t) / E[D]: flat up to 0.8 × the interval, then falling linearly to 0 at
 * 1.2 ×). A fleet started together, e.g. by one rollout, then checks at its steady rate from the first
 * second on, instead of in one wave 4–6 minutes after the rollout (bench/watch-spread.ts: the expected
 * rate of 1,000 replicas peaks at 1.16× the mean, against 2.68× when the first delay was a
 * refreshDelay).
 */
export function firstRefreshDelay(intervalMs: number, random: () => number): number {
  const low = 1 - REFRESH_JITTER;
  const width = 2 * REFRESH_JITTER;
  const p = random();
  if (p <= low) return Math.round(intervalMs * p);
  // Above `low` the CDF is low + x − x² / (2 width), x in [0, width]: solved for x.
  const x = width - Math.sqrt(width * width - 2 * width * (p - low));
  return Math.round(intervalMs * (low + x));
}

/**
 * The delay until a lease or token granted for `durationSec` is renewed: about two thirds of it, drawn
 * from 60–66.7 % so that many leases granted together do not renew together. What is left (a third)
 * is the time to retry a failed renewal and, failing that, to read a new secret.
 */
export function renewDelay(durationSec: number, random: () => number): number {
  return Math.round(durationSec * 1000 * (0.6 + (2 / 3 - 0.6) * random()));
}

/**
 * How long before a credential's expiry the watch gives up renewing or replacing it and the app is
 * stopped (--on-expiry exit): a tenth of its duration, at most 30 s, so the app is gone before the
 * service starts refusing what it holds. Never more than a tenth: the renewal starts at two thirds at
 * the latest, and the time between is its time to retry.
 */
export function expiryMarginMs(durationSec: number): number {
  return Math.min(30_000, durationSec * 100);
}

/**
 * Whether a renewal was capped: the service granted less than asked, so it has reached its max TTL
 * and the next step is a new secret, not another renewal. Services round to whole seconds, so up to a
 * second less is not capped, but never more than 5 % of a short lease (3 s asked, 2 s granted is).
 */
export function renewalCapped(askedSec: number, grantedSec: number): boolean {
  return grantedSec < askedSec - Math.min(1, askedSec * 0.05);
}
