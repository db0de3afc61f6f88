// The app of scenario 4 (plain JavaScript, so its own memory is that of a bare Node: no type stripping
// loaded). It says `ready <pid>` once its handlers are in, then for every SIGUSR1/SIGUSR2 prints the
// signal and the time its handler ran, on the clock the bench also reads (performance.timeOrigin +
// performance.now(): wall time at start plus a monotonic offset, comparable across processes to a few
// microseconds). stdout is a pipe to the bench, which Node writes synchronously.
import { performance } from "node:perf_hooks";

const now = () => performance.timeOrigin + performance.now();
for (const signal of ["SIGUSR1", "SIGUSR2"])
  process.on(signal, () => process.stdout.write(`${signal} ${now()}\n`));
process.stdout.write(`ready ${process.pid}\n`);
setInterval(() => {}, 1 << 30);
