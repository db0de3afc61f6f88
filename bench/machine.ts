// What the results were measured on, for the header of RESULTS.md: numbers from another machine, Node
// or load level are not comparable.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release } from "node:os";
import { NODE, REPO } from "./config.ts";

export interface Machine {
  readonly date: string;
  readonly node: string;
  readonly nproc: number;
  readonly model: string;
  readonly kernel: string;
  /** The commit measured, and whether src/, providers/ or scripts/ had uncommitted changes. */
  readonly code: string;
}

function describeCode(): string {
  const git = (...args: string[]): string =>
    execFileSync("git", ["-C", REPO, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    const dirty = git("status", "--porcelain", "--", "src", "providers", "scripts", "bin") !== "";
    return `commit ${git("rev-parse", "--short", "HEAD")}${dirty ? " plus uncommitted changes in src/providers/scripts/bin" : " (clean src, providers, scripts, bin)"}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim(),
    nproc: availableParallelism(),
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    kernel: release(),
    code: describeCode(),
  };
}

/** 1-minute load average: above nproc means the other suites were competing for the CPU. */
export function load(): string {
  return (loadavg()[0] ?? Number.NaN).toFixed(2);
}
