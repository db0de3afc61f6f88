// `--watch` keeps secretwrap resident for the app's life, and V8's defaults are tuned for speed, not
// for a process that checks a few versions every few minutes. Measured on Node 24 (bench/watch.ts,
// issue #15):
// - the optimising compilers (Maglev, TurboFan) page in ~6 MB more of Node's own code the first time
//   they compile anything, and already do during start-up (Node's path and Buffer helpers);
// - the heap grows its limits for throughput: under a 10 ms refresh over TLS a watch held 150 MB
//   where the live heap was 12 MB; --optimize-for-size makes V8 collect sooner (~80 MB);
// - a young generation that doubles when it fills keeps 2-4 MB of empty pages (src/young-generation.ts).
// The price is CPU: checks run interpreted or baseline-compiled (Sparkplug), 2-3× the CPU of a round
// of checks over TLS. At minutes between rounds that is far below a millisecond a second, while memory
// is paid by every replica for the app's whole life.
//
// These are V8 flags of this process only, set through node:v8: no Node option, no environment
// variable, nothing the app can see (its argv and environment are built by secretwrap, and Node
// passes no flag of its own to a spawned program). Each exists in every supported Node (≥ 20); an
// unknown one would print an error line.
import { keepYoungGenerationSmall } from "../young-generation.ts";

export const WATCH_V8_FLAGS = ["--no-turbofan", "--no-maglev", "--optimize-for-size"] as const;

export function keepResidentSmall(): void {
  const v8 = process.getBuiltinModule("node:v8");
  for (const flag of WATCH_V8_FLAGS) v8.setFlagsFromString(flag);
  // For every provider, not only the SDKs that already get it when they load (src/provider.ts).
  keepYoungGenerationSmall();
}

/**
 * Whether this run will watch, from the raw command line, before anything is parsed or compiled:
 * `--watch` among secretwrap's own arguments (before `--`), or SECRETWRAP_WATCH set to a true word
 * (src/settings.ts). The real parse comes later and decides; a wrong guess here changes only speed
 * and memory, never what secretwrap does (test/unit/watch/resident.test.ts holds it to the parser).
 */
export function looksLikeWatch(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const end = args.indexOf("--");
  if ((end < 0 ? args : args.slice(0, end)).includes("--watch")) return true;
  return ["true", "1", "yes", "on"].includes((env["SECRETWRAP_WATCH"] ?? "").toLowerCase());
}
