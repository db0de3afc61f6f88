// Pure: a duration option's text → whole milliseconds, exactly or not at all.
//
// Why bounded: every duration ends up in a timer (setTimeout, AbortSignal.timeout), and Node turns a
// delay past 2^31-1 ms into 1 ms (or throws a RangeError), so `--stop-timeout 600h` would SIGKILL the
// app at once. Bounding at parse time means no consumer can overflow, whichever timer it uses.
// Why exact: the value is computed in integer arithmetic from the digits (no float rounding), and a
// value finer than a millisecond is refused rather than rounded.
// Why no bare numbers: `--timeout 5000` could mean seconds or milliseconds; a unit is required.

/** The largest duration any option accepts: 24h, far below the timers' 2^31-1 ms. */
export const MAX_DURATION_MS = 24 * 3_600_000;
export const MAX_DURATION_TEXT = "24h";

const UNIT_MS = { ms: 1n, s: 1_000n, m: 60_000n, h: 3_600_000n } as const;

/** Milliseconds that fit every timer; only parseDuration makes them. */
export type DurationMs = number & { readonly __brand: "DurationMs" };

export type DurationResult =
  { readonly ok: true; readonly ms: DurationMs } | { readonly ok: false; readonly reason: string };

const EXPECTED = "expected a number with a unit: 500ms, 30s, 2m, 1.5h";

export function parseDuration(text: string): DurationResult {
  const refuse = (reason: string): DurationResult => ({ ok: false, reason });
  if (text === "") return refuse(`is empty; ${EXPECTED}`);
  if (/^[0-9]+(?:\.[0-9]+)?$/.test(text)) {
    return refuse(`a bare number is not a duration; add a unit: ${text}s or ${text}ms`);
  }
  const match = /^([0-9]+)(?:\.([0-9]+))?(ms|s|m|h)$/.exec(text);
  if (match === null) return refuse(EXPECTED);
  const [, whole = "", fraction = "", unit = "s"] = match;
  // value = digits / 10^fraction.length units, in exact integer arithmetic
  const scaled = BigInt(whole + fraction) * UNIT_MS[unit as keyof typeof UNIT_MS];
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) return refuse("is finer than a millisecond");
  const ms = scaled / divisor;
  if (ms === 0n) return refuse("must be more than zero");
  if (ms > BigInt(MAX_DURATION_MS)) return refuse(`must be at most ${MAX_DURATION_TEXT}`);
  return { ok: true, ms: Number(ms) as DurationMs };
}
