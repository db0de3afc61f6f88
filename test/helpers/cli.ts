// Runs the built CLI the way a user does: bin/secretwrap, with a chosen Node first on PATH and a
// small, explicit environment.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseJson } from "../../src/json.ts";
import { canaryPattern } from "./canary.ts";
import { NODE24, REPO, type NodeBuild } from "./nodes.ts";
import { isDefaultSecretsDir } from "./secrets-dirs.ts";

export const CLI = `${REPO}/bin/secretwrap`;
export const PROBE = `${REPO}/test/fixtures/probe.mjs`;

export interface CliOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly node?: NodeBuild;
  readonly timeoutMs?: number;
  readonly stdin?: string;
  /** Run the CLI through this command (e.g. setpriv, unshare). */
  readonly prefix?: readonly string[];
  /** Only for a test whose app itself writes a canary to stderr. */
  readonly stderrMayHoldCanaries?: boolean;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: number;
  readonly durationMs: number;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly result: Promise<CliResult>;
}

/** PATH for the CLI: the chosen Node first, then the system's. */
export function pathFor(node: NodeBuild = NODE24): string {
  return `${dirname(node.bin)}:/usr/local/bin:/usr/bin:/bin`;
}

export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const node = options.node ?? NODE24;
  const env = { PATH: pathFor(node), HOME: "/root", LANG: "C.UTF-8", ...options.env };
  const started = Date.now();
  const [file, ...argv] = [...(options.prefix ?? []), CLI, ...args] as [string, ...string[]];
  const child = spawn(file, argv, { cwd: options.cwd ?? REPO, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  else child.stdin?.end();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`secretwrap ${args.join(" ")} did not finish within ${timeoutMs}ms\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // Every CLI run of every test: secretwrap never prints a canary value (test/helpers/canary.ts) on
      // stderr, whatever the test itself checks. (stdout is the app's, and `get`'s.)
      const leaked = canaryPattern().exec(stderr);
      if (leaked !== null && options.stderrMayHoldCanaries !== true) {
        reject(
          new Error(`secretwrap ${args.join(" ")} printed a canary value on stderr: ${leaked[0]}\n${stderr}`),
        );
        return;
      }
      resolve({ code, signal, stdout, stderr, pid: child.pid ?? -1, durationMs: Date.now() - started });
    });
  });
  return { child, pid: child.pid ?? -1, result };
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

export interface ProbeRecord {
  readonly probe: "start" | "signal" | "ready";
  readonly pid?: number;
  readonly ppid?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly groups?: string;
  readonly argv?: string[];
  readonly env?: Record<string, string>;
  readonly fds?: string[];
  readonly sigIgn?: string;
  readonly sigBlk?: string;
  readonly signal?: string;
  readonly parentEnviron?: string;
  readonly parentArgv?: readonly string[];
  readonly files?: Record<
    string,
    {
      path: string;
      mode: string;
      uid: number;
      gid: number;
      base64: string;
      fsType: number;
      dirMode: string;
      error?: string;
    }
  >;
}

/**
 * The default secrets dirs (/dev/shm/secretwrap-XXXXXX) whose files the probe reported in `outFile`.
 * An exec-mode run leaves its dir to the app, so after the app has exited the test must remove it.
 */
export function reportedSecretsDirs(outFile: string): string[] {
  const dirs = readProbe(outFile).flatMap((r) => Object.values(r.files ?? {}).map((f) => dirname(f.path)));
  return [...new Set(dirs)].filter(isDefaultSecretsDir);
}

export function readProbe(outFile: string): ProbeRecord[] {
  if (!existsSync(outFile)) return [];
  return readFileSync(outFile, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => parseJson(l) as ProbeRecord);
}

/** Polls the probe's report until `predicate` holds (no sleeps as synchronisation). */
export async function waitForProbe(
  outFile: string,
  predicate: (records: ProbeRecord[]) => boolean,
  timeoutMs = 10_000,
): Promise<ProbeRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = readProbe(outFile);
    if (predicate(records)) return records;
    if (Date.now() > deadline)
      throw new Error(
        `probe condition not met within ${timeoutMs}ms: ${JSON.stringify(records).slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function probeStart(records: readonly ProbeRecord[]): ProbeRecord {
  const start = records.find((r) => r.probe === "start");
  if (start === undefined) throw new Error("the probe never started");
  return start;
}
