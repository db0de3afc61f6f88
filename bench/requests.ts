// What one run sent to the fake servers, read from their request logs: counts by kind (login, mount
// detection, read, ...) and the number of sequential waves, which is what latency multiplies.
import type { RecordedRequest, TestServer } from "../test/servers/harness.ts";

export type Servers = Readonly<Record<string, TestServer>>;
/** Names the kind of a request, given the name of the server that received it. */
export type Classifier = (server: string, request: RecordedRequest) => string;

export interface Sent {
  readonly server: string;
  readonly request: RecordedRequest;
}

export type Mark = Readonly<Record<string, number>>;

export function mark(servers: Servers): Mark {
  return Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, s.requests.length]));
}

export function sentSince(servers: Servers, since: Mark): Sent[] {
  return Object.entries(servers)
    .flatMap(([server, s]) => s.requests.slice(since[server] ?? 0).map((request) => ({ server, request })))
    .sort((a, b) => a.request.time - b.request.time);
}

export function countByKind(sent: readonly Sent[], classify: Classifier): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { server, request } of sent) {
    const kind = classify(server, request);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Requests sent in parallel arrive within a few ms of each other; one that had to wait for an answer
 * arrives at least one latency later. A gap of more than half the latency starts a new wave.
 */
export function waves(sent: readonly Sent[], latencyMs: number): number {
  let count = 0;
  let previous = Number.NEGATIVE_INFINITY;
  for (const { request } of sent) {
    if (request.time - previous > latencyMs / 2) count++;
    previous = request.time;
  }
  return count;
}

export function sameCounts(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
