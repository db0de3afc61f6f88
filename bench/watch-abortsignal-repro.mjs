// The retention behind the watch bench's growing memory, without secretwrap: a composite signal made
// from a timeout signal (what Lifecycle.#until makes for each check) passed as a source of another
// AbortSignal.any() (what withRetry does) stays in Node's gcPersistentSignals for good. Prints the live
// heap kept per iteration after every timer fired and a full GC, for three shapes.
//   node_modules/node/bin/node --expose-gc bench/watch-abortsignal-repro.mjs
/* global AbortController, AbortSignal */
const N = Number(process.env["REPRO_N"] ?? "100000");
const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with --expose-gc");
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const listenOnce = (signal) => {
  const f = () => {};
  signal.addEventListener("abort", f, { once: true });
  signal.removeEventListener("abort", f);
};
const shapes = {
  "nested: any([any([longLived, timeout]), timeout])": (longLived) =>
    listenOnce(
      AbortSignal.any([AbortSignal.any([longLived, AbortSignal.timeout(5)]), AbortSignal.timeout(5)]),
    ),
  "flat: any([longLived, timeout, timeout])": (longLived) =>
    listenOnce(AbortSignal.any([longLived, AbortSignal.timeout(5), AbortSignal.timeout(5)])),
  "controller: any([longLived, controller]) + cleared setTimeout": (longLived) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5);
    listenOnce(AbortSignal.any([longLived, controller.signal]));
    clearTimeout(timer);
  },
};
const only = process.argv[2];
if (only === undefined) {
  // Each shape in a process of its own, so that one's leftovers do not count against another.
  const { execFileSync } = await import("node:child_process");
  const self = new URL(import.meta.url).pathname;
  for (const name of Object.keys(shapes))
    process.stdout.write(execFileSync(process.execPath, ["--expose-gc", self, name], { encoding: "utf8" }));
} else {
  const shape = shapes[only];
  const longLived = new AbortController().signal;
  const before = heap();
  for (let i = 0; i < N; i++) {
    shape(longLived);
    if (i % 1000 === 0) await pause(0);
  }
  // Every timer has fired; let FinalizationRegistry callbacks run between full GCs.
  for (let i = 0; i < 5; i++) {
    await pause(200);
    heap();
  }
  const kept = (heap() - before) / N;
  console.log(`${only}: ${kept.toFixed(0)} B kept per iteration (${process.version})`);
}
