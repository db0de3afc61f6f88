// Reliability matrix, group B (network, provider, auth, timing faults): reference/reliability.md §4.
// Every case runs the built CLI (`npm run build` first) against the wire-level fake Vault, the
// reference network provider, on 127.0.0.1 only. Test names start with the case id. Deadlines are
// small (--timeout 2s, --attempt-timeout 500ms unless a case needs otherwise); timing bounds are
// generous because other suites share the two cores.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, runCli, probeStart, readProbe, startCli, type CliResult } from "../helpers/cli.ts";
import { NODE24 } from "../helpers/nodes.ts";
import type { Fault, RecordedRequest } from "../servers/harness.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { apiPath, FakeVault, vaultError } from "../servers/vault.ts";
import { scratchDirs } from "../helpers/scratch.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-network-"));
const shm = mkdtempSync("/dev/shm/secretwrap-network-");
const scratch = scratchDirs(work);

const FAST = ["--timeout", "2s", "--attempt-timeout", "500ms"];
const POLICY = ["secret/data/net/*"];
const K8S_SA = "kubernetes.io/serviceaccount/service-account.name";

let pki: TestPki;
let vault: FakeVault;
/** Every value and credential planted in this file: none may ever appear in any output. */
const planted: string[] = [];

function plant(value: string): string {
  planted.push(value);
  return value;
}

interface Secret {
  readonly ref: string;
  readonly value: string;
  /** The API path the CLI reads it at (KV v2). */
  readonly path: string;
}

/** A fresh KV v2 secret under secret/net/, its value a canary. */
async function secret(id: string): Promise<Secret> {
  const name = `${id.toLowerCase()}-${randomBytes(3).toString("hex")}`;
  const value = plant(canary(id));
  await vault.putKv("secret", `net/${name}`, { value });
  return { ref: `ref+vault://secret/net/${name}#value`, value, path: `secret/data/net/${name}` };
}

async function token(ttlSeconds?: number): Promise<string> {
  return plant(await vault.createToken(POLICY, ttlSeconds));
}

const isPath =
  (path: string) =>
  (q: RecordedRequest): boolean =>
    apiPath(q) === path;

beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
});

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

interface Run {
  readonly result: CliResult;
  readonly out: string;
  /** Date.now() when the CLI was started and when it had exited. */
  readonly startedAt: number;
  readonly endedAt: number;
}

interface RunOptions {
  readonly args?: readonly string[];
  readonly config?: object;
  readonly prefix?: readonly string[];
  readonly onStart?: (running: ReturnType<typeof startCli>, out: string) => Promise<void>;
}

/** `secretwrap run [args] -- node probe` with the given environment (the secrets are in it). */
async function run(env: Record<string, string>, options: RunOptions = {}): Promise<Run> {
  const dir = scratch();
  const out = join(dir, "probe.jsonl");
  const args = [...(options.args ?? FAST)];
  if (options.config !== undefined) {
    writeFileSync(join(dir, "secretwrap.json"), JSON.stringify({ version: 1, ...options.config }));
    args.push("--config", join(dir, "secretwrap.json"));
  }
  const startedAt = Date.now();
  const running = startCli(["run", ...args, "--", "node", PROBE, "--exit", "0"], {
    env: { SECRETWRAP_LOG_LEVEL: "debug", PROBE_OUT: out, ...env },
    cwd: dir,
    timeoutMs: 40_000,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
  await options.onStart?.(running, out);
  const result = await running.result;
  return { result, out, startedAt, endedAt: Date.now() };
}

/** The https fake with its CA and a token. */
function viaVault(tokenValue: string): Record<string, string> {
  return { VAULT_ADDR: vault.url, VAULT_CACERT: pki.caFile, VAULT_TOKEN: tokenValue };
}

function expectNoLeaks(r: Run, extra: readonly string[] = []): void {
  expect(
    scanForCanaries([...planted, ...extra], { texts: { stdout: r.result.stdout, stderr: r.result.stderr } }),
  ).toEqual([]);
}

function expectNotStarted(r: Run, code: number): void {
  expect(r.result.code, r.result.stderr).toBe(code);
  expect(existsSync(r.out), "the app must not start").toBe(false);
}

function childEnv(r: Run): Record<string, string> {
  return probeStart(readProbe(r.out)).env ?? {};
}

interface Retry {
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

/** The engine's debug lines: `retrying <what> attempt=N delayMs=D reason="…"`. */
function retries(stderr: string): Retry[] {
  return [...stderr.matchAll(/retrying .* attempt=(\d+) delayMs=(\d+) reason="([^"]*)"/g)].map((m) => ({
    attempt: Number(m[1]),
    delayMs: Number(m[2]),
    reason: m[3] ?? "",
  }));
}

function stddevOf(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

function since(before: number, matcher: (q: RecordedRequest) => boolean): RecordedRequest[] {
  return vault.server.requests.slice(before).filter(matcher);
}

function gaps(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((q, i) => q.time - (requests[i] as RecordedRequest).time);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Root can make network namespaces; without that the B2/B8 cases cannot run here. */
const unshareProblem = ((): string | undefined => {
  const probe = spawnSync("unshare", ["--net", "--mount", "true"], { encoding: "utf8" });
  if (probe.error !== undefined) return `unshare is not available (${probe.error.message})`;
  if (probe.status !== 0) return `unshare --net --mount failed: ${probe.stderr.trim()}`;
  return undefined;
})();
if (unshareProblem !== undefined)
  console.warn(`network.test.ts: B2 and B8 skipped: ${unshareProblem} (they need root)`);
const withNetns = unshareProblem === undefined ? it : it.skip;

// ---------------------------------------------------------------------------------------------------

describe("B1–B3: unreachable and silent servers are retried until the deadline", () => {
  it("B1: connection refused on a closed port → jittered backoff until --timeout, exit 69", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const s = await secret("B1");
    const t = await token();
    const r = await run({ VAULT_ADDR: `http://127.0.0.1:${closed}`, VAULT_TOKEN: t, B1: s.ref });
    expectNotStarted(r, 69);
    expect(r.result.stderr).toContain(`http://127.0.0.1:${closed}: connection refused (ECONNREFUSED)`);
    expect(r.result.stderr).toContain("ECONNREFUSED");
    expect(r.result.stderr).toContain("gave up at the --timeout deadline");
    const tries = retries(r.result.stderr);
    // Refusals are instant, so only the backoff spaces the attempts: several fit in 2 s.
    expect(tries.length).toBeGreaterThanOrEqual(3);
    // Full jitter: delay n is drawn from [0, 250 ms × 2^(n-1)), capped by what is left of the deadline.
    for (const { attempt, delayMs } of tries) expect(delayMs).toBeLessThan(250 * 2 ** (attempt - 1));
    expect(new Set(tries.map((x) => x.delayMs)).size).toBeGreaterThan(1);
    expect(r.result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(r.result.durationMs).toBeLessThan(2000 + 1500);
    expectNoLeaks(r, [t]);
  });

  withNetns(
    "B2: no network (unshare --net, lo down) → ENETUNREACH per attempt, exit 69 at the deadline",
    async () => {
      const s = await secret("B2");
      const t = await token();
      const r = await run(
        { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: t, B2: s.ref },
        { prefix: ["unshare", "--net", "--"] },
      );
      expectNotStarted(r, 69);
      expect(r.result.stderr).toContain("gave up at the --timeout deadline");
      const tries = retries(r.result.stderr);
      expect(tries.length).toBeGreaterThanOrEqual(3);
      // Each attempt fails at once with ENETUNREACH; none waits for the per-attempt timeout.
      for (const x of tries) expect(x.reason).toContain("ENETUNREACH");
      expect(r.result.durationMs).toBeGreaterThanOrEqual(2000);
      expect(r.result.durationMs).toBeLessThan(2000 + 1500);
      expectNoLeaks(r, [t]);
    },
  );

  it("B3: the server accepts but never answers → cut at every --attempt-timeout, retried, exit 69 at the deadline", async () => {
    const s = await secret("B3");
    const t = await token();
    vault.server.script(isPath(s.path), [{ kind: "hang" }], { forever: true });
    const before = vault.server.requests.length;
    const r = await run({ ...viaVault(t), B3: s.ref });
    expectNotStarted(r, 69);
    expect(r.result.stderr).toContain("no answer within 0.5s");
    expect(r.result.stderr).toContain("gave up at the --timeout deadline");
    const reads = since(before, isPath(s.path));
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.length).toBeLessThanOrEqual(4);
    // Attempts are at least one attempt timeout apart (request log of the fake).
    for (const gap of gaps(reads)) expect(gap).toBeGreaterThanOrEqual(450);
    expect(r.result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(r.result.durationMs).toBeLessThan(2000 + 1500);
    expectNoLeaks(r, [t]);
  });
});

describe("B4–B6: status codes", () => {
  const delays: number[] = [];

  it.each([500, 502, 503, 504])(
    "B4: %i twice, then 200 → succeeds on attempt 3 with growing jittered backoff",
    async (status) => {
      const s = await secret("B4");
      const t = await token();
      vault.server.script(isPath(s.path), [vaultError(status), vaultError(status)]);
      const before = vault.server.requests.length;
      const r = await run(
        { ...viaVault(t), B4: s.ref },
        { args: ["--timeout", "10s", "--attempt-timeout", "500ms"] },
      );
      expect(r.result.code, r.result.stderr).toBe(0);
      expect(childEnv(r)["B4"]).toBe(s.value);
      const reads = since(before, isPath(s.path));
      expect(reads).toHaveLength(3);
      const tries = retries(r.result.stderr);
      expect(tries.map((x) => x.attempt)).toEqual([1, 2]);
      expect(tries[0]?.reason).toContain(`Vault answered ${status}`);
      // Ceilings double: [0, 250) then [0, 500); the fake saw the attempts at least that far apart.
      const [first, second] = tries as [Retry, Retry];
      expect(first.delayMs).toBeLessThan(250);
      expect(second.delayMs).toBeLessThan(500);
      const [gap1, gap2] = gaps(reads) as [number, number];
      expect(gap1).toBeGreaterThanOrEqual(first.delayMs - 5);
      expect(gap2).toBeGreaterThanOrEqual(second.delayMs - 5);
      delays.push(first.delayMs, second.delayMs);
      expectNoLeaks(r, [t]);
    },
  );

  it("B4: the backoff delays over those runs are jittered (not one fixed schedule)", () => {
    expect(delays).toHaveLength(8);
    expect(new Set(delays).size).toBeGreaterThan(2);
  });

  it.each([
    { status: 400, code: 69, says: "Vault answered 400 for reading" },
    { status: 403, code: 77, says: "permission denied reading" },
    { status: 404, code: 69, says: "does not exist (404)" },
  ])(
    "B5: $status is not retried (1 request), exit $code, status and reference shown, body never",
    async ({ status, code, says }) => {
      const s = await secret("B5");
      const t = await token();
      const body = plant(canary("BODY"));
      vault.server.script(isPath(s.path), [vaultError(status, `error detail ${body}`)]);
      const before = vault.server.requests.length;
      const r = await run(
        { ...viaVault(t), B5: s.ref },
        { args: ["--timeout", "10s", "--attempt-timeout", "500ms"] },
      );
      expectNotStarted(r, code);
      expect(since(before, isPath(s.path))).toHaveLength(1);
      expect(retries(r.result.stderr)).toEqual([]);
      expect(r.result.stderr).toContain(says);
      expect(r.result.stderr).toContain(String(status));
      expect(r.result.stderr).toContain(s.ref);
      expectNoLeaks(r, [t]);
    },
  );

  const throttled = (retryAfter: () => string): Fault => ({
    kind: "replyFn",
    reply: () => ({
      status: 429,
      body: { errors: ['request path "secret/data/net": rate limit quota exceeded'] },
      headers: { "retry-after": retryAfter() },
    }),
  });

  it("B6: 429 with Retry-After: 2 → the next attempt waits at least 2 s", async () => {
    const s = await secret("B6");
    const t = await token();
    vault.server.script(isPath(s.path), [throttled(() => "2")]);
    const before = vault.server.requests.length;
    const r = await run(
      { ...viaVault(t), B6: s.ref },
      { args: ["--timeout", "6s", "--attempt-timeout", "500ms"] },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(childEnv(r)["B6"]).toBe(s.value);
    const reads = since(before, isPath(s.path));
    expect(reads).toHaveLength(2);
    expect(gaps(reads)[0]).toBeGreaterThanOrEqual(2000);
    expect(gaps(reads)[0]).toBeLessThan(3500);
    expectNoLeaks(r, [t]);
  });

  it("B6: 429 with Retry-After as an HTTP-date 3 s ahead → waits until that date", async () => {
    const s = await secret("B6");
    const t = await token();
    // HTTP-dates have whole seconds: the wait is 2–3 s.
    vault.server.script(isPath(s.path), [throttled(() => new Date(Date.now() + 3000).toUTCString())]);
    const before = vault.server.requests.length;
    const r = await run(
      { ...viaVault(t), B6: s.ref },
      { args: ["--timeout", "8s", "--attempt-timeout", "500ms"] },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    const reads = since(before, isPath(s.path));
    expect(reads).toHaveLength(2);
    expect(gaps(reads)[0]).toBeGreaterThanOrEqual(1900);
    expect(gaps(reads)[0]).toBeLessThan(4000);
    expectNoLeaks(r, [t]);
  });

  it("B6: Retry-After past the deadline → fails fast as throttled instead of sleeping (exit 69)", async () => {
    const s = await secret("B6");
    const t = await token();
    vault.server.script(isPath(s.path), [throttled(() => "10")], { forever: true });
    const before = vault.server.requests.length;
    // 3 s leaves room for start-up and login on a loaded machine; the server asks for 10 s.
    const r = await run(
      { ...viaVault(t), B6: s.ref },
      { args: ["--timeout", "3s", "--attempt-timeout", "500ms"] },
    );
    expectNotStarted(r, 69);
    expect(since(before, isPath(s.path))).toHaveLength(1);
    expect(r.result.stderr).toContain("429 (rate limit quota exceeded)");
    expect(r.result.stderr).toContain("the server asked to wait 10s, past the deadline");
    expect(r.result.stderr).toMatch(/throttling/);
    // Right after the 429: well before the 3 s deadline, let alone the 10 s the server asked for.
    const first = since(before, isPath(s.path))[0] as RecordedRequest;
    expect(r.endedAt - first.time).toBeLessThan(900);
    expectNoLeaks(r, [t]);
  });
});

describe("B7: thundering herd", () => {
  it("B7: 20 processes against a token-bucket Vault → ≤ --concurrency in flight each, retries spread by jitter", async () => {
    const PROCESSES = 20;
    const SECRETS = 6;
    const CONCURRENCY = 2;
    const herd = await FakeVault.start({ latencyMs: 60 });
    try {
      await herd.mountKv("secret", 2);
      const values: string[] = [];
      const env: Record<string, string> = {};
      for (let i = 0; i < SECRETS; i++) {
        const value = plant(canary(`B7_${i}`));
        values.push(value);
        await herd.putKv("secret", `net/b7-${i}`, { value });
        env[`B7_${i}`] = `ref+vault://secret/net/b7-${i}#value`;
      }
      // Token bucket: 8 requests of burst, refilled at 25 per second; beyond that 429 (no Retry-After,
      // so only the client's jitter decides when each retry comes).
      const bucket = { tokens: 8, at: Date.now() };
      const throttledRequests = new Set<RecordedRequest>();
      herd.server.script(
        (q) => {
          const now = Date.now();
          bucket.tokens = Math.min(8, bucket.tokens + ((now - bucket.at) / 1000) * 25);
          bucket.at = now;
          if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return false;
          }
          throttledRequests.add(q);
          return true;
        },
        [vaultError(429, "rate limit quota exceeded")],
        { forever: true },
      );
      const tokens = await Promise.all(
        Array.from({ length: PROCESSES }, () => herd.createToken(POLICY).then(plant)),
      );
      const runs = await Promise.all(
        tokens.map((t) =>
          run(
            { VAULT_ADDR: herd.url, VAULT_TOKEN: t, ...env },
            { args: ["--timeout", "30s", "--attempt-timeout", "5s", "--concurrency", String(CONCURRENCY)] },
          ),
        ),
      );
      for (const r of runs) {
        expect(r.result.code, r.result.stderr).toBe(0);
        expect(childEnv(r)["B7_0"]).toBe(values[0]);
        expectNoLeaks(r);
      }
      // In flight per process: the largest number of overlapping exchanges carrying its token.
      const byToken = new Map<string, { start: number; end: number }[]>();
      for (const span of herd.server.spans) {
        const t = span.request.headers["x-vault-token"];
        if (typeof t !== "string") continue;
        const list = byToken.get(t) ?? [];
        list.push({ start: span.request.time, end: span.end });
        byToken.set(t, list);
      }
      expect(byToken.size).toBe(PROCESSES);
      const peaks = [...byToken.values()].map((spans) => {
        const events = spans.flatMap((s): [number, number][] => [
          [s.start, 1],
          [s.end, -1],
        ]);
        events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let now = 0;
        let peak = 0;
        for (const [, delta] of events) peak = Math.max(peak, (now += delta));
        return peak;
      });
      expect(Math.max(...peaks)).toBeLessThanOrEqual(CONCURRENCY);
      expect(peaks.filter((p) => p === CONCURRENCY).length).toBeGreaterThan(0);
      // Retry instants: requests that follow a throttled one for the same token and path.
      const retryTimes: number[] = [];
      const last = new Map<string, RecordedRequest>();
      for (const q of herd.server.requests) {
        const key = `${String(q.headers["x-vault-token"])} ${q.path}`;
        const previous = last.get(key);
        if (previous !== undefined && throttledRequests.has(previous)) retryTimes.push(q.time);
        last.set(key, q);
      }
      expect(throttledRequests.size).toBeGreaterThan(10);
      expect(retryTimes.length).toBeGreaterThan(10);
      const stddev = stddevOf(retryTimes);
      // Histogram in 100 ms bins: no bin holds a synchronized wave of most retries.
      const first = Math.min(...retryTimes);
      const bins = new Map<number, number>();
      for (const time of retryTimes) {
        const bin = Math.floor((time - first) / 100);
        bins.set(bin, (bins.get(bin) ?? 0) + 1);
      }
      const fullest = Math.max(...bins.values());
      console.info(
        `B7: ${herd.server.requests.length} requests, ${throttledRequests.size} throttled, ${retryTimes.length} retries, ` +
          `retry-time stddev ${stddev.toFixed(0)} ms over ${bins.size} bins of 100 ms (fullest ${fullest}), ` +
          `peak in-flight per process ${Math.max(...peaks)}`,
      );
      // The waits the processes chose for their first retries (their debug lines): with full jitter
      // they are spread over [0, 250 ms), not one fixed step that would make every process come back
      // together. (On two loaded cores, arrival times at the fake are too noisy to show this alone.)
      const firstDelays = runs.flatMap((r) =>
        retries(r.result.stderr)
          .filter((x) => x.attempt === 1)
          .map((x) => x.delayMs),
      );
      const spread = stddevOf(firstDelays);
      console.info(
        `B7: ${firstDelays.length} first retries chose waits of ${Math.min(...firstDelays)}–${Math.max(...firstDelays)} ms ` +
          `(${new Set(firstDelays).size} distinct, stddev ${spread.toFixed(0)} ms)`,
      );
      expect(firstDelays.length).toBeGreaterThan(10);
      expect(new Set(firstDelays).size).toBeGreaterThan(firstDelays.length / 2);
      expect(spread).toBeGreaterThan(30);
      expect(stddev).toBeGreaterThan(100);
      expect(fullest / retryTimes.length).toBeLessThan(0.34);
    } finally {
      await herd.close();
    }
  });
});

describe("B8: name resolution", () => {
  const resolvConf = join(work, "resolv.conf");
  beforeAll(() => writeFileSync(resolvConf, "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n"));
  /** A network namespace whose only resolver is 127.0.0.1, in a private mount namespace. */
  const isolated = (script: string): string[] => [
    "unshare",
    "--net",
    "--mount",
    "--",
    "sh",
    "-c",
    `mount --bind ${resolvConf} /etc/resolv.conf && ${script}`,
    "sh",
  ];

  withNetns(
    "B8: EAI_AGAIN (no resolver answers) is retried until the deadline, exit 69 naming the host",
    async () => {
      const t = plant(canary("TOKEN"));
      const r = await run(
        {
          VAULT_ADDR: "https://vault.example.invalid:8200",
          VAULT_TOKEN: t,
          B8: "ref+vault://secret/net/b8#value",
        },
        { prefix: isolated('exec "$@"') },
      );
      expectNotStarted(r, 69);
      expect(r.result.stderr).toContain("EAI_AGAIN");
      expect(r.result.stderr).toContain("https://vault.example.invalid:8200");
      expect(r.result.stderr).toContain("gave up at the --timeout deadline");
      expect(retries(r.result.stderr).length).toBeGreaterThanOrEqual(2);
      expect(r.result.durationMs).toBeGreaterThanOrEqual(2000);
      expect(r.result.durationMs).toBeLessThan(2000 + 1500);
      expectNoLeaks(r, [t]);
    },
  );

  withNetns(
    "B8: ENOTFOUND (NXDOMAIN from a loopback DNS server) fails at once, not retried, exit 69 naming the host",
    async () => {
      // A DNS server inside the namespace that answers every question "no such name": real NXDOMAIN
      // handling by the C library, and not one packet to a real resolver.
      const dns = join(scratch(), "nxdomain.mjs");
      writeFileSync(
        dns,
        [
          'import { createSocket } from "node:dgram";',
          'import { writeFileSync } from "node:fs";',
          'const socket = createSocket("udp4");',
          "socket.on('message', (query, peer) => {",
          "  const answer = Buffer.from(query);",
          "  answer[2] = 0x81; answer[3] = 0x83;", // QR, RD, RA, rcode 3 (NXDOMAIN)
          "  answer.writeUInt16BE(0, 6); answer.writeUInt16BE(0, 8); answer.writeUInt16BE(0, 10);",
          "  socket.send(answer, peer.port, peer.address);",
          "});",
          'socket.bind(53, "127.0.0.1", () => writeFileSync(process.argv[2], "ready"));',
          "setTimeout(() => process.exit(0), 20000);",
        ].join("\n"),
      );
      const ready = join(work, `dns-ready-${randomBytes(3).toString("hex")}`);
      const t = plant(canary("TOKEN"));
      const r = await run(
        {
          VAULT_ADDR: "https://vault.example.invalid:8200",
          VAULT_TOKEN: t,
          B8: "ref+vault://secret/net/b8#value",
        },
        {
          prefix: isolated(
            `ip link set lo up && { ${NODE24.bin} ${dns} ${ready} & dns=$!; } && ` +
              `while [ ! -e ${ready} ]; do sleep 0.02; done; "$@"; code=$?; kill $dns; exit $code`,
          ),
        },
      );
      expectNotStarted(r, 69);
      expect(r.result.stderr).toContain("https://vault.example.invalid:8200: the host name does not exist");
      expect(r.result.stderr).toContain("ENOTFOUND");
      expect(retries(r.result.stderr)).toEqual([]);
      expect(r.result.stderr).not.toContain("gave up at the --timeout deadline");
      expect(r.result.durationMs).toBeLessThan(2000);
      expectNoLeaks(r, [t]);
    },
  );
});

describe("B9–B11: TLS", () => {
  const cases = [
    { name: "self-signed", cert: () => pki.selfSigned, ca: false, reason: /SELF_SIGNED/ },
    { name: "wrong SAN", cert: () => pki.wrongName, ca: true, reason: /ERR_TLS_CERT_ALTNAME_INVALID/ },
    { name: "expired", cert: () => pki.expired, ca: true, reason: /CERT_HAS_EXPIRED/ },
    {
      name: "unknown CA",
      cert: () => pki.valid,
      ca: false,
      reason: /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/,
    },
  ];

  it.each(cases)(
    "B9: $name certificate → fail closed, not retried (≤ 1 handshake), reason in the message, exit 69",
    async ({ cert, ca, reason }) => {
      const bad = await FakeVault.start({ tls: cert() });
      try {
        const t = plant(canary("TOKEN"));
        const r = await run({
          VAULT_ADDR: bad.url,
          VAULT_TOKEN: t,
          ...(ca ? { VAULT_CACERT: pki.caFile } : {}),
          B9: "ref+vault://secret/net/b9#value",
        });
        expectNotStarted(r, 69);
        expect(r.result.stderr).toContain(`${bad.url}: TLS verification failed`);
        expect(r.result.stderr).toMatch(reason);
        expect(retries(r.result.stderr)).toEqual([]);
        expect(bad.server.requests).toHaveLength(0);
        expect(bad.server.connectionsAccepted).toBeLessThanOrEqual(1);
        expectNoLeaks(r, [t]);
      } finally {
        await bad.close();
      }
    },
  );

  it("B10: NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn verification off: a self-signed Vault still fails (69)", async () => {
    const bad = await FakeVault.start({ tls: pki.selfSigned });
    try {
      const t = plant(canary("TOKEN"));
      const r = await run({
        VAULT_ADDR: bad.url,
        VAULT_TOKEN: t,
        NODE_TLS_REJECT_UNAUTHORIZED: "0",
        B10: "ref+vault://secret/net/b10#value",
      });
      expectNotStarted(r, 69);
      expect(r.result.stderr).toMatch(/TLS verification failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      expect(bad.server.requests).toHaveLength(0);
      expectNoLeaks(r, [t]);
    } finally {
      await bad.close();
    }
  });

  it("B10: … and the app still receives NODE_TLS_REJECT_UNAUTHORIZED=0 unchanged", async () => {
    const s = await secret("B10");
    const t = await token();
    const r = await run({ ...viaVault(t), NODE_TLS_REJECT_UNAUTHORIZED: "0", B10: s.ref });
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(childEnv(r)["NODE_TLS_REJECT_UNAUTHORIZED"]).toBe("0");
    expect(childEnv(r)["B10"]).toBe(s.value);
    expectNoLeaks(r, [t]);
  });

  it("B11: a custom CA bundle (caFile in the config) verifies the private CA's certificate", async () => {
    const s = await secret("B11");
    const t = await token();
    const r = await run(
      { VAULT_ADDR: vault.url, VAULT_TOKEN: t, B11: s.ref },
      { config: { providers: { vault: { caFile: pki.caFile } } } },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(childEnv(r)["B11"]).toBe(s.value);
    expectNoLeaks(r, [t]);
  });

  it.each([
    {
      name: "missing",
      file: () => join(work, "no-such-ca.pem"),
      says: /cannot read CA file .*no-such-ca\.pem \(ENOENT\)/,
    },
    {
      name: "unreadable (a directory)",
      file: () => work,
      says: /CA file .* is a directory, not a file/,
    },
    {
      name: "garbage",
      file: () => {
        const path = join(scratch(), "garbage.pem");
        writeFileSync(path, "this is not a certificate\n");
        return path;
      },
      says: /holds no PEM certificate/,
    },
  ])("B11: a $name CA file → exit 78 before any request", async ({ file, says }) => {
    const t = plant(canary("TOKEN"));
    const before = vault.server.requests.length;
    const r = await run({
      VAULT_ADDR: vault.url,
      VAULT_CACERT: file(),
      VAULT_TOKEN: t,
      B11: "ref+vault://secret/net/b11#value",
    });
    expectNotStarted(r, 78);
    expect(r.result.stderr).toMatch(says);
    expect(vault.server.requests.length).toBe(before);
    expectNoLeaks(r, [t]);
  });
});

describe("B12–B13: broken bodies", () => {
  it("B12: reset mid-body → retried; nothing is written to the secrets dir until every secret arrived", async () => {
    const s = await secret("B12");
    const t = await token();
    const dir = join(mkdtempSync(join(shm, "b12-")), "secrets");
    // Attempt 1: headers and part of the body, then the connection is destroyed. Attempt 2: held back
    // 1.5 s so the secrets dir can be inspected while secretwrap waits for it.
    vault.server.script(isPath(s.path), [
      { kind: "resetAfterBytes", bytes: 150 },
      { kind: "delay", ms: 1500 },
    ]);
    const before = vault.server.requests.length;
    let during: string[] | undefined;
    const r = await run(
      { ...viaVault(t), B12_FILE: s.ref },
      {
        args: ["--timeout", "10s", "--attempt-timeout", "3s", "--secrets-dir", dir],
        onStart: async () => {
          await waitFor(() => since(before, isPath(s.path)).length >= 2);
          during = existsSync(dir) ? readdirSync(dir) : [];
        },
      },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(during).toEqual([]);
    expect(since(before, isPath(s.path))).toHaveLength(2);
    const tries = retries(r.result.stderr);
    expect(tries).toHaveLength(1);
    expect(tries[0]?.reason).toMatch(
      /(cannot reach Vault .* \(|the connection broke off \()(ECONNRESET|ERR_BAD_RESPONSE|ECONNABORTED|UND_ERR_SOCKET|aborted)/,
    );
    const file = probeStart(readProbe(r.out)).files?.["B12_FILE"];
    expect(file?.path).toBe(join(dir, "B12"));
    expect(Buffer.from(file?.base64 ?? "", "base64").toString("utf8")).toBe(s.value);
    expectNoLeaks(r, [t]);
  });

  const body = (id: string): { value: string; json: string } => {
    const value = plant(canary(id));
    return {
      value,
      json: JSON.stringify({ request_id: "r", data: { data: { value }, metadata: { version: 1 } } }),
    };
  };
  /** A fault that answers with this status, content type and body. */
  const reply = (status: number, contentType: string, text: string): Fault => ({
    kind: "reply",
    reply: { status, body: text, headers: { "content-type": contentType } },
  });
  const bodies: { name: string; fault: () => { fault: Fault; leak: string } }[] = [
    {
      name: "truncated JSON (200, application/json)",
      fault: () => {
        const { value, json } = body("TRUNC");
        const cut = json.slice(0, json.indexOf(value) + value.length);
        return { fault: reply(200, "application/json", cut), leak: value };
      },
    },
    {
      name: "an HTML error page from a proxy (200, text/html)",
      fault: () => {
        const value = plant(canary("HTML"));
        const html = `<html><body><h1>Gateway</h1><pre>${value}</pre></body></html>`;
        return { fault: reply(200, "text/html", html), leak: value };
      },
    },
    {
      name: "an HTML error page from a proxy (502, text/html)",
      fault: () => {
        const value = plant(canary("HTML502"));
        const html = `<html><body>Bad Gateway ${value}</body></html>`;
        return { fault: reply(502, "text/html", html), leak: value };
      },
    },
    {
      name: "a JSON body with the wrong content type (200, text/plain)",
      fault: () => {
        const { value, json } = body("CTYPE");
        return { fault: reply(200, "text/plain", json), leak: value };
      },
    },
  ];

  it.each(bodies)("B13: $name → retried, the body never printed", async ({ fault }) => {
    const s = await secret("B13");
    const t = await token();
    const { fault: f, leak } = fault();
    vault.server.script(isPath(s.path), [f]);
    const before = vault.server.requests.length;
    const r = await run(
      { ...viaVault(t), B13: s.ref },
      { args: ["--timeout", "10s", "--attempt-timeout", "500ms"] },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(childEnv(r)["B13"]).toBe(s.value);
    expect(since(before, isPath(s.path))).toHaveLength(2);
    expect(retries(r.result.stderr)).toHaveLength(1);
    expectNoLeaks(r, [t, leak]);
  });

  it("B13: an HTML page on every attempt → exit 69 at the deadline, the message names the content type, never the body", async () => {
    const s = await secret("B13");
    const t = await token();
    const leak = plant(canary("HTMLFOREVER"));
    vault.server.script(isPath(s.path), [reply(200, "text/html; charset=utf-8", `<html>${leak}</html>`)], {
      forever: true,
    });
    const r = await run({ ...viaVault(t), B13: s.ref });
    expectNotStarted(r, 69);
    expect(r.result.stderr).toContain(
      'with a body that is not a JSON object (content-type "text/html; charset=utf-8"',
    );
    expect(r.result.stderr).toContain("gave up at the --timeout deadline");
    expectNoLeaks(r, [t, leak]);
  });
});

describe("B15–B16: partial failure and slow servers", () => {
  it("B15: 1 of N denied (+1 missing, +1 hanging): app never started, secrets dir left empty, every failure listed, exit 77", async () => {
    const ok = await Promise.all([secret("B15A"), secret("B15B"), secret("B15C"), secret("B15D")]);
    const hanging = await secret("B15H");
    const t = await token();
    vault.server.script(isPath(hanging.path), [{ kind: "hang" }], { forever: true });
    const dir = join(mkdtempSync(join(shm, "b15-")), "secrets");
    const r = await run(
      {
        ...viaVault(t),
        B15_A_FILE: ok[0].ref,
        B15_B_FILE: ok[1].ref,
        B15_C: ok[2].ref,
        B15_D: ok[3].ref,
        B15_DENIED: "ref+vault://secret/forbidden/db#password",
        B15_MISSING: "ref+vault://secret/net/no-such-secret#value",
        B15_HANGING_FILE: hanging.ref,
      },
      { args: ["--timeout", "10s", "--attempt-timeout", "500ms", "--secrets-dir", dir] },
    );
    expectNotStarted(r, 77);
    // The denial is listed with its reason; whatever was still in flight then (the hanging one, maybe
    // the missing one) is abandoned at once and named as "not fetched", not reported as a failure.
    expect(r.result.stderr).toMatch(
      /\d of 7 secrets could not be resolved \(\d more not fetched after that: [A-Z0-9_, ]*B15_HANGING_FILE/,
    );
    expect(r.result.stderr).toMatch(
      /✖ B15_DENIED ACCESS_DENIED: permission denied reading secret\/data\/forbidden\/db \(403\)/,
    );
    expect(r.result.stderr).toContain("ref+vault://secret/forbidden/db#password");
    expect(r.result.stderr).not.toMatch(/✖ B15_HANGING_FILE/);
    expect(r.result.stderr).not.toMatch(/✖ B15_[A-D](_FILE)? /);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    // Once a secret failed for good the hanging sibling is abandoned at once, not left to its attempt
    // timeout, and the run ends far from the 10 s deadline.
    expect(r.result.durationMs).toBeLessThan(3000);
    expectNoLeaks(r, [t]);
  });

  it("B15: check is not cut short by one failure: every secret gets its own answer", async () => {
    const ok = await secret("B15CHK");
    const hanging = await secret("B15CHKH");
    const t = await token();
    vault.server.script(isPath(hanging.path), [{ kind: "hang" }], { forever: true });
    const result = await runCli(["check", "--json", "--timeout", "2s", "--attempt-timeout", "500ms"], {
      env: {
        ...viaVault(t),
        OK: ok.ref,
        DENIED: "ref+vault://secret/forbidden/db#password",
        HANGING: hanging.ref,
      },
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(77);
    const report = JSON.parse(result.stdout) as {
      secrets: { name: string; status: string; code?: string; error?: string }[];
    };
    const byName = new Map(report.secrets.map((s) => [s.name, s]));
    expect(byName.get("OK")?.status).toBe("ok");
    expect(byName.get("DENIED")?.code).toBe("ACCESS_DENIED");
    // The hanging one is reported for what it is (the deadline), not as abandoned.
    expect(byName.get("HANGING")?.code).toBe("FETCH_TIMEOUT");
    expect(result.stdout + result.stderr).not.toContain(t);
  });

  const slow: { name: string; fault: Fault }[] = [
    { name: "headers delayed past the deadline (10 s)", fault: { kind: "delay", ms: 10_000 } },
    { name: "a body trickling 1 byte / 200 ms", fault: { kind: "trickle", ms: 200 } },
  ];
  it.each(slow)("B16: $name → aborted at --timeout 3s (± 10 %), exit 69", async ({ fault }) => {
    const s = await secret("B16");
    const t = await token();
    vault.server.script(isPath(s.path), [fault], { forever: true });
    const before = vault.server.requests.length;
    // The per-attempt timeout is longer than the deadline: only the deadline's signal can end this.
    const r = await run(
      { ...viaVault(t), B16: s.ref },
      { args: ["--timeout", "3s", "--attempt-timeout", "20s"] },
    );
    expectNotStarted(r, 69);
    expect(r.result.stderr).toContain("gave up at the --timeout deadline");
    // The deadline runs from secretwrap's start (which a loaded machine delays before the first
    // request), so the run lasts about 3 s from its own start: ± 10 %, plus process exit.
    const elapsed = r.endedAt - r.startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(2700);
    expect(elapsed).toBeLessThanOrEqual(3300 + 500);
    expect(since(before, isPath(s.path))).toHaveLength(1);
    expectNoLeaks(r, [t]);
  });
});

describe("B17–B18, B20: credentials during the run", () => {
  it("B17: the login token expires during the fetch → logs in again once and retries (2 logins), app starts", async () => {
    const [a, b] = [await secret("B17A"), await secret("B17B")];
    // A 2 s token leaves room for the mount lookup and A's read on a loaded machine.
    const role = await vault.addAppRole("b17", POLICY, { mount: "approle-b17", tokenTtl: 2 });
    const secretId = plant(await role.secretId());
    // B's read is answered only after the token has expired: Vault says 403 invalid token.
    vault.server.script(isPath(b.path), [{ kind: "delay", ms: 2300 }]);
    const logins = vault.count("auth/approle-b17/login");
    const r = await run(
      {
        VAULT_ADDR: vault.url,
        VAULT_CACERT: pki.caFile,
        VAULT_ROLE_ID: role.roleId,
        VAULT_SECRET_ID: secretId,
        VAULT_AUTH_MOUNT: "approle-b17",
        B17A: a.ref,
        B17B: b.ref,
      },
      { args: ["--timeout", "10s", "--attempt-timeout", "3s", "--concurrency", "1"] },
    );
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(vault.count("auth/approle-b17/login") - logins).toBe(2);
    expect(r.result.stderr).toContain("Vault rejected the token; logging in again");
    expect(childEnv(r)["B17A"]).toBe(a.value);
    expect(childEnv(r)["B17B"]).toBe(b.value);
    expectNoLeaks(r);
  });

  it("B17: … if that second login fails → exit 77, app never started", async () => {
    const b = await secret("B17B");
    const role = await vault.addAppRole("b17f", POLICY, { mount: "approle-b17f", tokenTtl: 1 });
    const secretId = plant(await role.secretId());
    vault.server.script(isPath(b.path), [{ kind: "delay", ms: 1300 }]);
    let seen = 0;
    vault.server.script(
      (q) => isPath("auth/approle-b17f/login")(q) && ++seen >= 2,
      [vaultError(400, "invalid role or secret ID")],
      { forever: true },
    );
    const r = await run(
      {
        VAULT_ADDR: vault.url,
        VAULT_CACERT: pki.caFile,
        VAULT_ROLE_ID: role.roleId,
        VAULT_SECRET_ID: secretId,
        VAULT_AUTH_MOUNT: "approle-b17f",
        B17B: b.ref,
      },
      { args: ["--timeout", "10s", "--attempt-timeout", "3s"] },
    );
    expectNotStarted(r, 77);
    expect(seen).toBe(2);
    expect(r.result.stderr).toContain(
      "approle login at auth/approle-b17f/login failed (400 (invalid role or secret ID))",
    );
    expectNoLeaks(r);
  });

  it("B17: a static token that expires is not 'renewed' by any login → exit 77, one read", async () => {
    const b = await secret("B17S");
    // The token lives 3 s (room for start-up and the mount lookup on a loaded machine); the read is
    // held past its expiry.
    const t = await token(3);
    vault.server.script(isPath(b.path), [{ kind: "delay", ms: 3300 }]);
    const before = vault.server.requests.length;
    const r = await run(
      { ...viaVault(t), B17S: b.ref },
      { args: ["--timeout", "15s", "--attempt-timeout", "6s"] },
    );
    expectNotStarted(r, 77);
    expect(r.result.stderr).toContain("Vault rejected the token (403, invalid token: expired or revoked)");
    expect(since(before, isPath(b.path))).toHaveLength(1);
    expect(since(before, (q) => apiPath(q).startsWith("auth/"))).toHaveLength(0);
    expectNoLeaks(r, [t]);
  });

  it.each(["jwt", "kubernetes"] as const)(
    "B18: the %s token file is rotated between attempts → the second login sends the new content",
    async (method) => {
      const s = await secret("B18");
      const mount = `${method}-b18`;
      const claims = method === "jwt" ? { aud: "secretwrap" } : { [K8S_SA]: "app" };
      vault.addJwtRole(method, "b18", claims, POLICY, { mount });
      const old = plant(vault.issueJwt(claims));
      const rotated = plant(vault.issueJwt({ ...claims, rotated: "yes" }));
      const jwtFile = join(scratch(), "token");
      writeFileSync(jwtFile, old);
      // The first login is answered 503 (transient); the moment it arrives, the file is rotated, as the
      // kubelet does with a projected service-account token.
      let rotatedAt = 0;
      vault.server.script(
        (q) => {
          if (!isPath(`auth/${mount}/login`)(q) || rotatedAt !== 0) return false;
          writeFileSync(jwtFile, rotated);
          rotatedAt = Date.now();
          return true;
        },
        [vaultError(503, "Vault is sealed")],
      );
      const before = vault.server.requests.length;
      const r = await run(
        { VAULT_ADDR: vault.url, VAULT_CACERT: pki.caFile, B18: s.ref },
        {
          args: ["--timeout", "10s", "--attempt-timeout", "500ms"],
          config: { providers: { vault: { auth: { method, role: "b18", mount, jwtFile } } } },
        },
      );
      expect(r.result.code, r.result.stderr).toBe(0);
      const logins = since(before, isPath(`auth/${mount}/login`));
      expect(logins).toHaveLength(2);
      expect(logins[0]?.body).toContain(old);
      expect(logins[1]?.body).toContain(rotated);
      expect(logins[1]?.body).not.toContain(old);
      expect(childEnv(r)["B18"]).toBe(s.value);
      expectNoLeaks(r);
    },
  );

  it("B20: a login endpoint that never answers is bounded by --attempt-timeout and --timeout, exit 69 with a clear message", async () => {
    const role = await vault.addAppRole("b20", POLICY, { mount: "approle-b20" });
    const secretId = plant(await role.secretId());
    vault.server.script(isPath("auth/approle-b20/login"), [{ kind: "hang" }], { forever: true });
    const before = vault.server.requests.length;
    const r = await run({
      VAULT_ADDR: vault.url,
      VAULT_CACERT: pki.caFile,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: secretId,
      VAULT_AUTH_MOUNT: "approle-b20",
      B20: "ref+vault://secret/net/b20#value",
    });
    expectNotStarted(r, 69);
    expect(r.result.stderr).toContain(
      "vault login: gave up at the --timeout deadline (last error: vault login: no answer within 0.5s)",
    );
    const logins = since(before, isPath("auth/approle-b20/login"));
    expect(logins.length).toBeGreaterThanOrEqual(1);
    // A second attempt is owed when the first left early enough for its 0.5 s timeout and the first
    // backoff (full jitter, ≤ 0.5 s) to end before the deadline; on a busy machine start-up alone can
    // take most of the 2 s, and then one attempt is all the deadline allows.
    const first = logins[0] as RecordedRequest;
    if (r.startedAt + 2000 - first.time > 500 + 500 + 250) expect(logins.length).toBeGreaterThanOrEqual(2);
    // Gaps as the server sees them: ≥ the 0.5 s attempt timeout, less a scheduling jitter on 2 busy cores.
    for (const gap of gaps(logins)) expect(gap).toBeGreaterThanOrEqual(350);
    expect(r.result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(r.result.durationMs).toBeLessThan(2000 + 1500);
    expectNoLeaks(r);
  });
});

describe("B19: stop signals during the fetch", () => {
  it.each([
    { signal: "SIGTERM" as const, code: 143 },
    { signal: "SIGINT" as const, code: 130 },
  ])(
    "B19: $signal while a read is in flight → aborted, nothing written, exit $code within ~1 s, app never started",
    async ({ signal, code }) => {
      const s = await secret("B19");
      const t = await token();
      vault.server.script(isPath(s.path), [{ kind: "hang" }], { forever: true });
      const dir = join(mkdtempSync(join(shm, "b19-")), "secrets");
      const before = vault.server.requests.length;
      let signalledAt = 0;
      const r = await run(
        { ...viaVault(t), B19_FILE: s.ref },
        {
          args: ["--timeout", "20s", "--attempt-timeout", "10s", "--secrets-dir", dir],
          onStart: async (running) => {
            await waitFor(() => since(before, isPath(s.path)).length >= 1);
            signalledAt = Date.now();
            running.child.kill(signal);
          },
        },
      );
      expectNotStarted(r, code);
      expect(r.result.stderr).toContain(`stopped by ${signal} before the command started`);
      expect(r.endedAt - signalledAt).toBeLessThan(1500);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      // The in-flight read was abandoned: no socket of this run is left open at the fake.
      await waitFor(() => vault.server.openConnections === 0, 2000);
      expect(since(before, isPath(s.path))).toHaveLength(1);
      expectNoLeaks(r, [t]);
    },
  );
});

describe("B22: proxy variables", () => {
  let proxy: Server;
  const seen: string[] = [];
  beforeAll(async () => {
    // A loopback "proxy" that records what it is asked (CONNECT or a plain proxied request) and
    // answers nothing useful.
    proxy = createServer((socket) => {
      socket.once("data", (chunk: Buffer) => {
        seen.push(chunk.toString("latin1").split("\r\n")[0] ?? "");
        socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it.each(["https", "http"] as const)(
    "B22: HTTPS_PROXY/HTTP_PROXY/NO_PROXY set (%s Vault) → secretwrap never uses the proxy; the app gets the variables unchanged",
    async (scheme) => {
      const plain = scheme === "http" ? await FakeVault.start() : undefined;
      const target = plain ?? vault;
      try {
        if (plain !== undefined) await plain.mountKv("secret", 2);
        const value = plant(canary("B22"));
        await target.putKv("secret", "net/b22", { value });
        const t = plant(await target.createToken(POLICY));
        const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        const proxies = {
          HTTPS_PROXY: proxyUrl,
          HTTP_PROXY: proxyUrl,
          https_proxy: proxyUrl,
          http_proxy: proxyUrl,
          ALL_PROXY: proxyUrl,
          NO_PROXY: "example.invalid",
          NODE_USE_ENV_PROXY: "1",
        };
        seen.length = 0;
        const r = await run({
          VAULT_ADDR: target.url,
          VAULT_CACERT: pki.caFile,
          VAULT_TOKEN: t,
          B22: "ref+vault://secret/net/b22#value",
          ...proxies,
        });
        expect(r.result.code, r.result.stderr).toBe(0);
        expect(seen).toEqual([]);
        expect(target.count("secret/data/net/b22")).toBeGreaterThanOrEqual(1);
        const env = childEnv(r);
        expect(env["B22"]).toBe(value);
        for (const [name, v] of Object.entries(proxies)) expect(env[name], name).toBe(v);
        expectNoLeaks(r, [t]);
      } finally {
        await plain?.close();
      }
    },
  );
});
