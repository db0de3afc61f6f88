// A debug hook for the watch bench's diagnostic run (node --expose-gc --import this bin.js run --watch):
// every 500 ms a full GC, then the live heap, appended as `<epoch ms> <heapUsed> <external>` to the file
// named by SECRETWRAP_BENCH_HEAP_OUT. What survives a full GC is what the process keeps: its slope
// over the refresh cycles is what each check leaves behind, free of the heap's own slack that RSS shows.
import { appendFileSync } from "node:fs";

const out = process.env["SECRETWRAP_BENCH_HEAP_OUT"];
if (out !== undefined && typeof globalThis.gc === "function") {
  const gc = globalThis.gc;
  setInterval(() => {
    gc();
    const m = process.memoryUsage();
    appendFileSync(out, `${Date.now()} ${m.heapUsed} ${m.external}\n`);
  }, 500).unref();
}
