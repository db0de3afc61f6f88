// A diagnostic, not part of `npm run bench`: when each request of one run reaches the fake server,
// in ms after spawn(), for secretwrap and for the SDK floor, interleaved over a few rounds. It shows
// where a run waits (time to the first request, sequential rounds) without timing the whole bench:
//   node_modules/node/bin/node bench/timeline.ts [vault|awssecrets|gcpsecrets|azurekeyvault] [rounds]
// TIMELINE_BASELINE=<another checkout's bin/secretwrap> adds that build as a third variant (e.g. main's,
// built from `git archive main`), so a change is measured against its base in the same loop.
import { performance } from "node:perf_hooks";
import { createTestPki } from "../test/servers/tls.ts";
import { LATENCY_MS } from "./config.ts";
import { sdkFloor, secretwrapRun } from "./commands.ts";
import { awsTarget } from "./providers/aws.ts";
import { azureTarget } from "./providers/azure.ts";
import { gcpTarget } from "./providers/gcp.ts";
import type { NetworkTarget } from "./providers/target.ts";
import { vaultTarget } from "./providers/vault.ts";
import { mark, sentSince, waves } from "./requests.ts";
import { buildSdkFloors } from "./sdk-floors.ts";
import { timeCommand, type Command } from "./spawn.ts";
import { summarize } from "./stats.ts";

const median = (values: number[]): number => summarize(values).median;
import { removeWorkdirs, scratch } from "./workdir.ts";

const name = process.argv[2] ?? "vault";
const rounds = Number(process.argv[3] ?? "10");
const pki = createTestPki();
const makers: Record<string, () => Promise<NetworkTarget>> = {
  vault: () => vaultTarget(pki, LATENCY_MS, scratch("t")),
  awssecrets: () => awsTarget(LATENCY_MS, scratch("t")),
  gcpsecrets: () => gcpTarget(LATENCY_MS, scratch("t")),
  azurekeyvault: () => azureTarget(pki, LATENCY_MS, scratch("t")),
};
const target = await (makers[name] ?? makers["vault"]!)();
const floors = buildSdkFloors(scratch("floors"));

interface Sample {
  total: number;
  first: number;
  waves: number;
  arrivals: string;
}

async function once(command: Command): Promise<Sample> {
  const before = mark(target.servers);
  const origin = performance.timeOrigin + performance.now();
  const total = await timeCommand(command);
  const sent = sentSince(target.servers, before);
  const at = sent.map((s) => s.request.time - origin);
  return {
    total,
    first: at[0] ?? Number.NaN,
    waves: waves(sent, LATENCY_MS),
    arrivals: at.map((t) => t.toFixed(0)).join(" "),
  };
}

const baseline = process.env["TIMELINE_BASELINE"];
const variants: Record<string, () => Command> = {
  secretwrap: () => secretwrapRun({ env: target.env, args: target.args, cwd: target.cwd }),
  floor: () => sdkFloor(floors, target),
  ...(baseline === undefined
    ? {}
    : {
        baseline: () => secretwrapRun({ bin: baseline, env: target.env, args: target.args, cwd: target.cwd }),
      }),
};
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
try {
  for (let round = -1; round < rounds; round++) {
    // Rotated each round, as bench/interleave.ts does.
    const names = Object.keys(variants);
    const order = names.map((_, i) => names[(i + round + names.length) % names.length] as string);
    for (const v of order) {
      const s = await once(variants[v]!());
      if (round >= 0) samples[v]!.push(s);
    }
  }
  for (const [v, list] of Object.entries(samples)) {
    console.log(
      `${name} ${v}: total ${median(list.map((s) => s.total)).toFixed(1)} ms, first request at ${median(list.map((s) => s.first)).toFixed(1)} ms, waves ${[...new Set(list.map((s) => s.waves))].join("/")}`,
    );
    for (const s of list.slice(0, 3)) console.log(`   arrivals: ${s.arrivals}`);
  }
  const fl = median(samples["floor"]!.map((s) => s.total));
  for (const v of Object.keys(variants).filter((v) => v !== "floor")) {
    const own = median(samples[v]!.map((s) => s.total));
    console.log(`${name} ${v}/floor: ${(own / fl).toFixed(2)} (${own.toFixed(1)} / ${fl.toFixed(1)} ms)`);
  }
} finally {
  await target.close();
  removeWorkdirs();
}
