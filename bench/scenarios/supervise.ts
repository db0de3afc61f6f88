// Scenario 4: memory and signal forwarding with `run --supervise`, where secretwrap stays alive as the
// app's parent. Peak RSS is secretwrap's high-water mark up to the exec (maxrss.ts, from a plain `run`
// of the same configuration); resident RSS (VmRSS) is what the supervisor keeps while the app runs. Forwarding latency is the time from kill() of
// secretwrap to the app's handler running; the same signal sent straight to the app is its baseline.
// Each configuration (20 file secrets, and each provider's 50 secrets) and bare Node (the app alone)
// is launched once per round, interleaved.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { NODE, REPO, ROUNDS, baseEnv } from "../config.ts";
import { secretwrapRun } from "../commands.ts";
import type { FileFixture } from "../fixtures.ts";
import { interleave } from "../interleave.ts";
import { LiveProcess } from "../live.ts";
import { peakRssMb } from "../maxrss.ts";
import { memoryOf, type Memory } from "../procfs.ts";
import type { NetworkTarget } from "../providers/target.ts";
import { failedRow, missBy, missIf, type Row } from "../report.ts";
import { summarize } from "../stats.ts";

const APP = [NODE, join(REPO, "bench/signal-app.mjs")];
/** Signals per launch and per path (through secretwrap, straight to the app). */
const SIGNALS_PER_LAUNCH = 3;

interface Config {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly args: readonly string[];
  readonly cwd: string;
}

const now = (): number => performance.timeOrigin + performance.now();

/** Sends `signal` to `pid` and returns how long until the app's handler ran. */
async function signalLatency(live: LiveProcess, pid: number, signal: "SIGUSR1" | "SIGUSR2"): Promise<number> {
  const sent = now();
  process.kill(pid, signal);
  const line = await live.line(signal);
  return Number(line.split(" ")[1]) - sent;
}

export async function superviseScenario(
  files: FileFixture,
  targets: readonly NetworkTarget[],
): Promise<Row[]> {
  const configs: Config[] = [
    { label: "20 file secrets", env: files.declared, args: [], cwd: files.dir },
    ...targets.map((t) => ({ label: `${t.name}, 50 secrets`, env: t.env, args: t.args, cwd: t.cwd })),
  ];
  const memory = new Map<string, Memory[]>([...configs.map((c): [string, Memory[]] => [c.label, []])]);
  const bare: Memory[] = [];
  const forwarded: number[] = [];
  const direct: number[] = [];

  /** A configuration that failed once (its provider is broken) is reported and not launched again. */
  const failures = new Map<string, unknown>();
  const launch = (config: Config, measureSignals: boolean) => async (round: number) => {
    if (failures.has(config.label)) return Number.NaN;
    try {
      return await launchOnce(config, measureSignals, round);
    } catch (error) {
      failures.set(config.label, error);
      return Number.NaN;
    }
  };
  const launchOnce = async (config: Config, measureSignals: boolean, round: number): Promise<number> => {
    const live = new LiveProcess(
      secretwrapRun({ env: config.env, args: ["--supervise", ...config.args], cwd: config.cwd, app: APP }),
    );
    try {
      const appPid = Number((await live.line("ready")).split(" ")[1]);
      if (measureSignals) {
        for (let i = 0; i < SIGNALS_PER_LAUNCH; i++) {
          const viaSecretwrap = await signalLatency(live, live.pid, "SIGUSR1");
          const straight = await signalLatency(live, appPid, "SIGUSR2");
          if (round >= 0) forwarded.push(viaSecretwrap);
          if (round >= 0) direct.push(straight);
        }
      }
      const { rssMb } = memoryOf(live.pid);
      await live.stop();
      const peakMb = await peakRssMb(secretwrapRun({ env: config.env, args: config.args, cwd: config.cwd }));
      if (round >= 0) memory.get(config.label)?.push({ peakMb, rssMb });
      return peakMb;
    } finally {
      await live.stop();
    }
  };

  await interleave(
    [
      ...configs.map((c, i) => ({ label: c.label, run: launch(c, i === 0) })),
      {
        label: "bare",
        run: async (round: number) => {
          const [file = NODE, ...args] = APP;
          const live = new LiveProcess({ file, args, env: baseEnv(), cwd: files.dir });
          try {
            await live.line("ready");
            const m = memoryOf(live.pid);
            if (round >= 0) bare.push(m);
            return m.peakMb;
          } finally {
            await live.stop();
          }
        },
      },
    ],
    ROUNDS,
  );

  const rows: Row[] = [];
  for (const config of configs) {
    if (failures.has(config.label)) {
      rows.push(failedRow("4", `memory with --supervise, ${config.label}`, failures.get(config.label)));
      continue;
    }
    const samples = memory.get(config.label) ?? [];
    const peak = summarize(samples.map((m) => m.peakMb));
    const rss = summarize(samples.map((m) => m.rssMb));
    rows.push(
      {
        scenario: "4",
        measure: `peak RSS (maxrss) of secretwrap up to the exec, ${config.label}`,
        summary: peak,
        unit: "MB",
        target: "≤ 80 MB",
        pass: peak.median <= 80,
        ...missIf(missBy(peak.median, 80, "MB")),
      },
      {
        scenario: "4",
        measure: `resident RSS (VmRSS) of the --supervise supervisor while the app runs, ${config.label}`,
        summary: rss,
        unit: "MB",
        target: "≤ 60 MB",
        pass: rss.median <= 60,
        ...missIf(missBy(rss.median, 60, "MB")),
      },
    );
  }
  const bareRss = summarize(bare.map((m) => m.rssMb));
  rows.push({
    scenario: "4",
    measure: "reference: RSS of the app alone (Node 24, idle)",
    summary: bareRss,
    unit: "MB",
  });
  const fwd = summarize(forwarded);
  const dir = summarize(direct);
  rows.push(
    {
      scenario: "4",
      measure: "signal forwarding latency, kill(secretwrap) → app handler (--supervise)",
      summary: fwd,
      unit: "ms",
      derived: `+${(fwd.median - dir.median).toFixed(2)} ms over direct`,
      target: "< 5 ms",
      pass: fwd.median < 5,
      ...missIf(missBy(fwd.median, 5, "ms")),
    },
    { scenario: "4", measure: "reference: kill(app) → app handler, direct", summary: dir, unit: "ms" },
  );
  return rows;
}
