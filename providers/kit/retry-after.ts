// How long a server asked us to wait (RFC 9110 §10.2.3 Retry-After, and Azure's millisecond variants),
// read the same way for every provider, so the one retry layer (src/retry.ts) honours it the same way.

/** Delay-seconds: a non-negative number (a fraction is tolerated; some proxies send one). */
const SECONDS = /^\d+(?:\.\d+)?$/;

/** Azure's own headers, in milliseconds, which win over Retry-After when present. */
const MILLISECOND_HEADERS = ["retry-after-ms", "x-ms-retry-after-ms"] as const;

/**
 * The wait in milliseconds from a response's headers, or undefined when none is given or it cannot be
 * read (a malformed value is ignored rather than trusted: backoff then applies). `now` is for tests.
 */
export function retryAfterMs(
  header: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  for (const name of MILLISECOND_HEADERS) {
    const raw = header(name)?.trim();
    if (raw !== undefined && SECONDS.test(raw)) return Number(raw);
  }
  const value = header("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (SECONDS.test(value)) return Number(value) * 1000;
  // Every HTTP-date form starts with a day name; anything else ("-5") is malformed, not a date.
  if (!/^[A-Za-z]/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A header reader over the shapes SDKs keep headers in: a Headers-like `get`, or a plain record. */
export function headerReader(headers: unknown): (name: string) => string | undefined {
  if (typeof (headers as { get?: unknown } | null | undefined)?.get === "function") {
    return (name) => {
      const value: unknown = (headers as { get(n: string): unknown }).get(name);
      return typeof value === "string" ? value : undefined;
    };
  }
  if (typeof headers === "object" && headers !== null) {
    const record = headers as Record<string, unknown>;
    return (name) => {
      const value = Object.hasOwn(record, name) ? record[name] : undefined;
      return typeof value === "string" ? value : undefined;
    };
  }
  return () => undefined;
}
