// Pure: when the watch does each thing. Every delay is computed from durations the service granted
// and a random draw (injectable), never from wall-clock dates, so a clock jump cannot cause a storm
// of renewals (timers run on the monotonic clock).

/** --refresh-interval's default: a rotated static secret reaches the app within about this long. */
export const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;

/** ±20 %: replicas started together spread their checks instead of hitting the provider at once. */
export const REFRESH_JITTER = 0.2;

/**
 * The delay until the next version check: the interval ±20 %, uniformly. 1,000 replicas started in
 * the same second then check at a rate no second sees more than about twice of (bench/watch-spread).
 */
export function refreshDelay(intervalMs: number, random: () => number): number {
  return Math.round(intervalMs * (1 - REFRESH_JITTER + 2 * REFRESH_JITTER * random()));
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
