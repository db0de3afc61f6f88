// Memory of a live process from /proc/<pid>/status: VmHWM is the peak resident set since its last exec,
// VmRSS what it holds now. The kernel counts in KiB.
import { readFileSync } from "node:fs";

export interface Memory {
  /** Peak resident set, MB (10^6 bytes). */
  readonly peakMb: number;
  /** Current resident set, MB. */
  readonly rssMb: number;
}

function field(status: string, name: string): number {
  const kib = new RegExp(`^${name}:\\s*(\\d+) kB$`, "m").exec(status)?.[1];
  if (kib === undefined) throw new Error(`no ${name} in /proc status`);
  return (Number(kib) * 1024) / 1e6;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { peakMb: field(status, "VmHWM"), rssMb: field(status, "VmRSS") };
}
