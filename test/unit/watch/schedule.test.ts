// The watch's timing rules, over every duration and random draw: renewals come before expiry with
// time left to retry, refreshes spread ±20 %, and the give-up margin never eats the retry window.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  expiryMarginMs,
  firstRefreshDelay,
  refreshDelay,
  REFRESH_JITTER,
  renewalCapped,
  renewDelay,
} from "../../../src/watch/schedule.ts";

const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("watch schedule", () => {
  it("a refresh waits the interval ±20 %, whatever the draw", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400_000 }), draw, (interval, r) => {
        const delay = refreshDelay(interval, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(interval * (1 - REFRESH_JITTER)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(interval * (1 + REFRESH_JITTER)));
      }),
    );
  });

  it("the draw spreads refreshes over the whole ±20 % (not a constant)", () => {
    expect(refreshDelay(100_000, () => 0)).toBe(80_000);
    expect(refreshDelay(100_000, () => 0.5)).toBe(100_000);
    expect(refreshDelay(100_000, () => 0.999_999)).toBe(120_000);
  });

  it("the first check after start is drawn so that a fleet started together checks at its steady rate at once", () => {
    // the residual's quantiles: flat (uniform) up to 0.8 of the interval, thinning out to 1.2
    expect(firstRefreshDelay(100_000, () => 0)).toBe(0);
    expect(firstRefreshDelay(100_000, () => 0.5)).toBe(50_000);
    expect(firstRefreshDelay(100_000, () => 0.8)).toBe(80_000);
    expect(firstRefreshDelay(100_000, () => 0.999_999_999)).toBeCloseTo(120_000, -2);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400_000 }), draw, draw, (interval, a, b) => {
        const [x, y] = [firstRefreshDelay(interval, () => a), firstRefreshDelay(interval, () => b)];
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(Math.ceil(interval * (1 + REFRESH_JITTER)));
        if (a <= b) expect(x).toBeLessThanOrEqual(y); // a quantile function: monotonic
      }),
    );
    // the mean of the residual of a uniform 0.8–1.2 delay: E[D²] / (2 E[D]) = (1 + 0.04 / 3) / 2
    const n = 20_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += firstRefreshDelay(1_000_000, () => (i + 0.5) / n);
    expect(sum / n / 1_000_000).toBeCloseTo((1 + 0.04 / 3) / 2, 3);
  });

  it("a lease or token is renewed at 60–67 % of its life, leaving the rest to retry before the margin", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 365 * 86_400 }), draw, (durationSec, r) => {
        const life = durationSec * 1000;
        const at = renewDelay(durationSec, () => r);
        expect(at).toBeGreaterThanOrEqual(Math.floor(life * 0.6));
        expect(at).toBeLessThanOrEqual(Math.ceil((life * 2) / 3));
        // the window to retry (from the renewal to the give-up point) is at least a fifth of the life
        expect(life - expiryMarginMs(durationSec) - at).toBeGreaterThanOrEqual(Math.floor(life * 0.2) - 1);
      }),
    );
  });

  it("the margin before expiry is a tenth of the life, at most 30 s", () => {
    expect(expiryMarginMs(3)).toBe(300);
    expect(expiryMarginMs(60)).toBe(6_000);
    expect(expiryMarginMs(3_600)).toBe(30_000);
  });

  it.each([
    [60, 60, false],
    [60, 59, false], // services round: one second of slack
    [60, 58, true],
    [3600, 3599, false],
    [3600, 120, true],
    [3, 3, false],
    [3, 2, true], // a short lease: the slack is 5 % of it
    [1, 0.6, true],
    [3, 0, true],
  ])("a renewal asked for %is and granted %is is capped: %s", (asked, granted, capped) => {
    expect(renewalCapped(asked, granted)).toBe(capped);
  });
});
