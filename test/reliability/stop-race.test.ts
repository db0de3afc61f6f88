// R3 of issue 13: a stop signal that reaches secretwrap before the app exists always wins. Every path
// that starts the app (exec, the --supervise hand-over, in-process supervision) is hit by TERM, INT,
// HUP or QUIT at a random moment over a whole start-up: every trial must end with that signal (128+N,
// or killed by it), and the app either never started or was killed by the signal it was sent.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canary } from "../helpers/canary.ts";
import { startCli, type CliResult } from "../helpers/cli.ts";
import { NODE24, NODES, type NodeBuild } from "../helpers/nodes.ts";

// On tmpfs, so each trial's --secrets-dir is a valid one; outside /dev/shm/secretwrap-* (the suite's
// leftover guard), and removed as a whole at the end.
const work = mkdtempSync("/dev/shm/sw-stop-race-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const envSecret = join(work, "env-secret");
const fileSecret = join(work, "file-secret");
writeFileSync(envSecret, canary("RACE_ENV"));
writeFileSync(fileSecret, canary("RACE_FILE"));

const STOPPING = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const;
const TRIALS = Number(process.env["R3_TRIALS"] ?? 200);
const PARALLEL = 2;
// Long enough that a lost signal shows as a clean exit 0 after it, never as a trial that happened
// to be signalled after the app was done.
const APP_SECONDS = 3;

interface Path {
  readonly label: string;
  readonly node: NodeBuild;
  readonly args: readonly string[];
}

const NODE20 = NODES.find((n) => !n.hasExecve);
const PATHS: readonly Path[] = [
  { label: "exec (node24)", node: NODE24, args: [] },
  { label: "hand-over to the slim supervisor (node24 --supervise)", node: NODE24, args: ["--supervise"] },
  ...(NODE20 === undefined ? [] : [{ label: "in-process supervise (node20)", node: NODE20, args: [] }]),
];

let trialCounter = 0;
function startTrial(path: Path): { marker: string; running: ReturnType<typeof startCli> } {
  const id = ++trialCounter;
  const marker = join(work, `started-${id}`);
  const running = startCli(
    [
      "run",
      "--log-level",
      "error",
      "--secrets-dir",
      join(work, `dir-${id}`),
      ...path.args,
      "--",
      "sh",
      "-c",
      // The marker says the app exists; it then outlives any start-up by far.
      `: > "$1"; exec sleep ${APP_SECONDS}`,
      "app",
      marker,
    ],
    {
      node: path.node,
      env: { TOKEN: `ref+file://${envSecret}`, CERT_FILE: `ref+file://${fileSecret}` },
      timeoutMs: (APP_SECONDS + 20) * 1000,
    },
  );
  return { marker, running };
}

/** How long a run takes until its app exists (the span the signals are spread over). */
async function measureStartup(path: Path): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { marker, running } = startTrial(path);
    const started = Date.now();
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 2));
    samples.push(Date.now() - started);
    running.child.kill("SIGKILL");
    await running.result;
  }
  return Math.max(...samples);
}

const exitSignal = (r: CliResult): string | null =>
  r.signal ??
  (r.code !== null && r.code > 128
    ? (Object.entries(constants.signals).find(([, n]) => n === r.code! - 128)?.[0] ?? null)
    : null);

describe("R3: a stop signal before the app exists always wins", () => {
  it.each(PATHS)(
    `R3: ${TRIALS} randomized TERM/INT/HUP/QUIT at any moment of start-up end 128+N ($label)`,
    async (path) => {
      const startupMs = await measureStartup(path);
      const outcomes: {
        signal: string;
        delayMs: number;
        result: string;
        started: boolean;
        stderr?: string;
      }[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < TRIALS) {
          const index = next++;
          const signal = STOPPING[index % STOPPING.length] as (typeof STOPPING)[number];
          // Over the whole start-up and past it (start-up under load varies), so every stretch of it is hit.
          const delayMs = Math.random() * startupMs * 2;
          const { marker, running } = startTrial(path);
          await new Promise((r) => setTimeout(r, delayMs));
          running.child.kill(signal);
          const result = await running.result;
          outcomes.push({
            signal,
            delayMs: Math.round(delayMs),
            result: exitSignal(result) ?? `exit ${result.code}`,
            started: existsSync(marker),
            ...(exitSignal(result) === signal ? {} : { stderr: result.stderr.slice(-600) }),
          });
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      const lost = outcomes.filter((o) => o.result !== o.signal);
      const started = outcomes.filter((o) => o.started).length;
      console.info(
        `R3 ${path.label}: start-up ${startupMs} ms, ${outcomes.length} trials, app started in ${started}, lost ${lost.length}`,
      );
      expect(lost, JSON.stringify(lost.slice(0, 12))).toEqual([]);
      // The spread must cover both sides: trials stopped before the app and trials whose app was killed.
      expect(started).toBeGreaterThan(0);
      expect(started).toBeLessThan(outcomes.length);
    },
    300_000,
  );
});
