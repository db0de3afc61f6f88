// An SDK wraps the socket's error in its own (axios, smithy, gaxios, RestError, MSAL), sometimes
// twice, and Node's happy-eyeballs connect reports one error per address in an AggregateError. The
// facts a classification needs (a Node error code, a host name) can sit at any depth of that tree.

/** How deep a chain is followed: SDK wrappers nest a few levels, never dozens; a cycle stops here too. */
const MAX_LINKS = 32;

/**
 * Every object reachable from `error` through `cause` and AggregateError's `errors`, outermost first
 * (breadth first), each once: the wrapper's facts win over the ones it wraps.
 */
export function causeChain(error: unknown): readonly object[] {
  const out: object[] = [];
  const seen = new Set<object>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < MAX_LINKS) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    out.push(next);
    const { cause, errors } = next as { cause?: unknown; errors?: unknown };
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return out;
}

/** The first string-valued `key` in the chain that passes `accept`. */
export function firstText(
  chain: readonly object[],
  key: string,
  accept: (value: string) => boolean = () => true,
): string | undefined {
  for (const link of chain) {
    const value = (link as Record<string, unknown>)[key];
    if (typeof value === "string" && value !== "" && accept(value)) return value;
  }
  return undefined;
}
