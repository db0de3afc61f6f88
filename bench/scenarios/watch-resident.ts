// Issue 15's acceptance (7) and its CPU number: `secretwrap run --watch --refresh-interval 10ms` with
// 50 secrets (25 env targets, 25 file targets) and an app that sleeps, for 2,000 refresh cycles with
// real changes (5 of the file targets' sources rewritten every 25 cycles: one SIGHUP and one file-set
// swap each), then 500 cycles with none. Cycles are counted by what the provider saw, never by time:
// for Vault the metadata GETs of one path in the fake's request log, for files the reads of one
// source file (inotify, bench/count-reads.py). About every 100 cycles the bench samples secretwrap's
// own process (the app's parent): VmRSS, its open fds, and utime+stime from /proc/<pid>/stat.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeVault } from "../../test/servers/vault.ts";
import type { RecordedRequest } from "../../test/servers/harness.ts";
import type { TestPki } from "../../test/servers/tls.ts";
import { NODE, REPO, baseEnv } from "../config.ts";
import { load } from "../machine.ts";
import { freshSecretsDir, scratch } from "../workdir.ts";

export const SECRETS = 50;
/** S0..S24 are env targets, S25..S49 file targets (S25_FILE ...). */
const ENV_TARGETS = 25;
/** BENCH_WATCH_CYCLES=N for a quick try (the quiet phase is then N / 4). */
export const CYCLES = Number(process.env["BENCH_WATCH_CYCLES"] ?? "2000");
/** Cycles after CYCLES with no change at all: CPU per unchanged cycle. */
export const QUIET_CYCLES = CYCLES / 4;
export const CHANGE_EVERY = 25;
const CHANGED_PER_CHANGE = 5;
export const SAMPLE_EVERY = 100;
export const INTERVAL = "10ms";
/** From here on the process is warm: growth is measured from this cycle to CYCLES. */
export const WARM_FROM = 200;
const STALL_MS = 60_000;
const CLK_TCK = 100;

/** Sources rewritten in turn: file targets only (an env change would restart the app). */
const ROTATED = Array.from({ length: SECRETS - ENV_TARGETS - 1 }, (_, i) => ENV_TARGETS + i);
/** The secret whose checks count the cycles: never rewritten. */
const COUNTER = 0;

export interface Sample {
  readonly cycle: number;
  readonly rssKb: number;
  readonly rssAnonKb: number;
  readonly fds: number;
  readonly threads: number;
  /** utime + stime so far, in clock ticks (1/100 s). */
  readonly cpuTicks: number;
  readonly changes: number;
  readonly hups: number;
  readonly ms: number;
  /** Epoch ms of the sample, to match the heap hook's records. */
  readonly at: number;
  /** Live heap after the full GC nearest this sample (diagnostic runs only). */
  readonly heapUsedKb?: number;
  readonly load: string;
}

/** The flags a run adds: the defaults, or short --timeout/--attempt-timeout (see VARIANTS). */
export interface Variant {
  readonly label: string;
  readonly args: readonly string[];
  /** Diagnostic runs only: Node flags before bin.js, and the live heap sampled by watch-heap-hook.mjs. */
  readonly heapHook?: boolean;
}

export const DEFAULT_TIMEOUTS: Variant = { label: "default timeouts (60s, 10s)", args: [] };
/**
 * Every check makes AbortSignal.timeout(--timeout) and AbortSignal.timeout(--attempt-timeout), which
 * Node keeps (with what they reference) until they fire, whether or not the check is long done: at
 * 10 ms intervals that is ~70 s of checks held in memory, which a 5 m interval never sees. With 2 s and
 * 1 s that window is 2 s, so what still grows is retained for good.
 */
export const SHORT_TIMEOUTS: Variant = {
  label: "--timeout 2s --attempt-timeout 1s",
  args: ["--timeout", "2s", "--attempt-timeout", "1s"],
};

/**
 * The short timeouts again, with a full GC every 500 ms and the live heap recorded (a debug hook, so
 * its CPU numbers are not secretwrap's own): what each check leaves behind for good.
 */
export const HEAP_DIAGNOSTIC: Variant = {
  ...SHORT_TIMEOUTS,
  label: `${SHORT_TIMEOUTS.label}, live heap after full GC (diagnostic)`,
  heapHook: true,
};

export interface ResidentResult {
  readonly provider: string;
  readonly variant: string;
  readonly args: readonly string[];
  readonly interval: string;
  readonly samples: readonly Sample[];
  /** Cycles counted when the request counts were taken (after the last change was delivered). */
  readonly finalCycles: number;
  readonly changes: number;
  readonly hups: number;
  readonly hupLines: number;
  /** Requests the fake saw after start-up, by kind (Vault only). */
  readonly requests?: Readonly<Record<string, number>>;
  /** Requests of the start-up (login, lookups, first reads) (Vault only). */
  readonly startup?: Readonly<Record<string, number>>;
  readonly secretwrapPid: number;
  readonly spawnedPid: number;
  readonly stderrTail: string;
  readonly seconds: number;
  readonly exit: string;
}

interface Provider {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Refresh cycles seen so far. */
  cycles(): number;
  /** Writes a new version of secret `i`'s source. */
  rotate(i: number, generation: number): Promise<void>;
  /** Counts by kind since start, split at the first cycle (Vault). */
  requests?(): { startup: Record<string, number>; cycles: Record<string, number> };
  close(): Promise<void>;
}

const name = (i: number): string => (i < ENV_TARGETS ? `S${i}` : `S${i}_FILE`);
const value = (generation: number): string => `g${generation}-${randomBytes(16).toString("hex")}`;

/** 50 files in one directory, each its own secret; cycles are the reads of s0 after the first. */
export async function fileProvider(): Promise<Provider> {
  const dir = scratch("watch-files");
  const env: Record<string, string> = {};
  for (let i = 0; i < SECRETS; i++) {
    writeFileSync(join(dir, `s${i}`), value(0), { mode: 0o600 });
    env[name(i)] = `ref+file://./s${i}`;
  }
  const counter = spawn("python3", [join(REPO, "bench/count-reads.py"), dir, `s${COUNTER}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let reads = 0;
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => (ready = resolve));
  let partial = "";
  counter.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "ready") ready();
      else reads = Number(line);
    }
  });
  await started;
  return {
    name: "file",
    env,
    cwd: dir,
    // The first read is the start-up's fetch; each later one is one cycle's check.
    cycles: () => Math.max(0, reads - 1),
    rotate: (i, generation) => {
      // Atomically, as an orchestrator does: the provider never sees a half-written file.
      const tmp = join(dir, `.s${i}.tmp`);
      writeFileSync(tmp, value(generation), { mode: 0o600 });
      renameSync(tmp, join(dir, `s${i}`));
      return Promise.resolve();
    },
    close: () => {
      counter.kill();
      return Promise.resolve();
    },
  };
}

/** Vault over TLS, AppRole, 50 KV v2 paths of one key each: 50 fetches, 50 version checks a cycle. */
export async function vaultProvider(pki: TestPki): Promise<Provider> {
  const vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  const env: Record<string, string> = {};
  for (let i = 0; i < SECRETS; i++) {
    await vault.putKv("secret", `app/p${i}`, { v: value(0) });
    env[name(i)] = `ref+vault://secret/app/p${i}#v`;
  }
  const approle = await vault.addAppRole("bench", ["secret/data/app/*", "secret/metadata/app/*"]);
  const requests = vault.server.requests;
  const counterPath = `/v1/secret/metadata/app/p${COUNTER}`;
  let seen = 0;
  let cycles = 0;
  let firstCycleAt = -1;
  const kind = (r: RecordedRequest): string => {
    const path = r.path.split("?")[0] ?? "";
    if (/^\/v1\/auth\/.+\/login$/.test(path)) return "login";
    if (path.startsWith("/v1/secret/metadata/")) return `metadata ${r.method}`;
    if (path.startsWith("/v1/secret/data/")) return `data ${r.method}`;
    return `${r.method} ${path}`;
  };
  return {
    name: "vault",
    env: {
      VAULT_ADDR: vault.url,
      VAULT_CACERT: pki.caFile,
      VAULT_ROLE_ID: approle.roleId,
      VAULT_SECRET_ID: await approle.secretId(),
      ...env,
    },
    cwd: scratch("watch-vault"),
    cycles: () => {
      for (; seen < requests.length; seen++) {
        const r = requests[seen];
        if (r !== undefined && r.method === "GET" && r.path.split("?")[0] === counterPath) {
          if (firstCycleAt < 0) firstCycleAt = seen;
          cycles++;
        }
      }
      return cycles;
    },
    rotate: async (i) => {
      await vault.putKv("secret", `app/p${i}`, { v: value(1) });
    },
    requests: () => {
      const startup: Record<string, number> = {};
      const during: Record<string, number> = {};
      requests.forEach((r, index) => {
        const into = firstCycleAt < 0 || index < firstCycleAt ? startup : during;
        const k = kind(r);
        into[k] = (into[k] ?? 0) + 1;
      });
      return { startup, cycles: during };
    },
    close: () => vault.close(),
  };
}

function status(pid: number): { rssKb: number; rssAnonKb: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (f: string): number => Number(new RegExp(`^${f}:\\s*(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { rssKb: field("VmRSS"), rssAnonKb: field("RssAnon"), threads: field("Threads") };
}

function cpuTicks(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]);
}

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One long run against `provider`; `dist` holds the built CLI (bin.js). */
export async function residentScenario(
  provider: Provider,
  dist: string,
  log: (line: string) => void,
  variant: Variant = DEFAULT_TIMEOUTS,
): Promise<ResidentResult> {
  const started = Date.now();
  const heapOut = variant.heapHook === true ? join(scratch("heap"), "heap.log") : undefined;
  const child: ChildProcess = spawn(
    NODE,
    [
      ...(heapOut === undefined ? [] : ["--expose-gc", "--import", join(REPO, "bench/watch-heap-hook.mjs")]),
      join(dist, "bin.js"),
      "run",
      "--watch",
      "--refresh-interval",
      INTERVAL,
      ...variant.args,
      "--secrets-dir",
      freshSecretsDir(),
      "--",
      NODE,
      join(REPO, "bench/watch-app.mjs"),
    ],
    {
      cwd: provider.cwd,
      env: {
        ...baseEnv(),
        ...provider.env,
        ...(heapOut === undefined ? {} : { SECRETWRAP_BENCH_HEAP_OUT: heapOut }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  let hups = 0;
  let appLine = "";
  let exit = "";
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("ready ")) appLine = line;
      else if (line.startsWith("hup ")) hups = Number(line.slice(4));
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-200_000);
  });
  const closed = new Promise<void>((resolve) =>
    child.once("close", (code, signal) => {
      exit = String(code ?? signal);
      resolve();
    }),
  );
  const samples: Sample[] = [];
  let changes = 0;
  let generation = 0;
  let rotated = 0;
  try {
    for (let waited = 0; appLine === ""; waited += 20) {
      if (exit !== "") throw new Error(`secretwrap exited ${exit} before the app started:\n${stderr}`);
      if (waited > 30_000) throw new Error(`the app did not start within 30 s:\n${stderr}`);
      await sleep(20);
    }
    const [, , ppid] = appLine.split(" ");
    const pid = Number(ppid);
    let nextSample = 0;
    let nextChange = CHANGE_EVERY;
    let lastCycles = -1;
    let lastProgress = Date.now();
    for (;;) {
      if (exit !== "") throw new Error(`secretwrap exited ${exit} during the watch:\n${stderr.slice(-3000)}`);
      const cycles = provider.cycles();
      if (cycles !== lastCycles) {
        lastCycles = cycles;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > STALL_MS) {
        throw new Error(
          `no refresh cycle for ${STALL_MS / 1000} s at cycle ${cycles}:\n${stderr.slice(-3000)}`,
        );
      }
      if (cycles >= nextSample) {
        samples.push({
          cycle: cycles,
          ...status(pid),
          fds: fdCount(pid),
          cpuTicks: cpuTicks(pid),
          changes,
          hups,
          ms: Date.now() - started,
          at: Date.now(),
          load: load(),
        });
        if (nextSample % 500 === 0)
          log(
            `${provider.name}, ${variant.label}: cycle ${cycles}, ${samples.at(-1)?.rssKb} kB, load ${load()}`,
          );
        nextSample += SAMPLE_EVERY;
      }
      if (cycles >= CYCLES + QUIET_CYCLES) break;
      if (cycles >= nextChange && nextChange <= CYCLES) {
        generation++;
        for (let k = 0; k < CHANGED_PER_CHANGE; k++)
          await provider.rotate(ROTATED[rotated++ % ROTATED.length] ?? ENV_TARGETS, generation);
        changes++;
        nextChange += CHANGE_EVERY;
      }
      await sleep(5);
    }
    // Let the last change be delivered before stopping.
    await sleep(200);
    const requests = provider.requests?.();
    const finalCycles = provider.cycles();
    child.kill("SIGTERM");
    await closed;
    return {
      provider: provider.name,
      variant: variant.label,
      samples: heapOut === undefined ? samples : withHeap(samples, heapOut),
      args: variant.args,
      interval: INTERVAL,
      finalCycles,
      changes,
      hups,
      hupLines: stderr.split("\n").filter((l) => l.includes("sending SIGHUP")).length,
      ...(requests === undefined ? {} : { requests: requests.cycles, startup: requests.startup }),
      secretwrapPid: pid,
      spawnedPid: child.pid ?? -1,
      stderrTail: stderr
        .split("\n")
        .filter((l) => !l.includes("sending SIGHUP") && !l.includes(" rotated "))
        .slice(-15)
        .join("\n"),
      seconds: (Date.now() - started) / 1000,
      exit,
    };
  } finally {
    if (exit === "") {
      child.kill("SIGTERM");
      await closed;
    }
  }
}

/** Each sample with the heap hook's record nearest in time. */
function withHeap(samples: readonly Sample[], file: string): Sample[] {
  const records = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" ").map(Number))
    .filter((r) => r.length === 3);
  return samples.map((s) => {
    let best: number[] | undefined;
    for (const r of records)
      if (best === undefined || Math.abs((r[0] ?? 0) - s.at) < Math.abs((best[0] ?? 0) - s.at)) best = r;
    return best === undefined ? s : { ...s, heapUsedKb: (best[1] ?? 0) / 1024 };
  });
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return num / den;
}

export const ticksToMs = (ticks: number): number => (ticks * 1000) / CLK_TCK;
