// Peak resident set of secretwrap up to the exec, read from the kernel's rusage: on execve Linux
// folds the old image's high-water mark into the process's maxrss, so the ru_maxrss that wait4()
// reports for `secretwrap run -- /bin/true` is secretwrap's own peak (/bin/true adds ~1 MB).
// /proc/<pid>/status cannot tell it any more: VmHWM starts again at every exec (and in --supervise
// mode secretwrap itself execs into its slim supervisor). Node cannot read a child's rusage, so GNU
// time (Debian package `time`) does.
import { existsSync } from "node:fs";
import type { Command } from "./spawn.ts";
import { timeCommand } from "./spawn.ts";

const GNU_TIME = "/usr/bin/time";
const MARK = "bench-maxrss-kib=";

export async function peakRssMb(command: Command): Promise<number> {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install time`);
  let stderr = "";
  await timeCommand(
    { ...command, file: GNU_TIME, args: ["-f", `${MARK}%M`, command.file, ...command.args] },
    (text) => (stderr = text),
  );
  const kib = new RegExp(`${MARK}(\\d+)`).exec(stderr)?.[1];
  if (kib === undefined) throw new Error(`GNU time printed no maxrss:\n${stderr.slice(-500)}`);
  return (Number(kib) * 1024) / 1e6;
}
