// What each SDK patch saves, for the table in README.md here. Builds the CLI once with every patch,
// once with none (--plain) and once without each patch, then times `secretwrap run -- /bin/true`
// (50 secrets in 10 paths, the bench's set-up) against each patched provider's local fake with no
// injected latency, every variant once per round in rotating order (bench/interleave.ts). Prints
// medians, and per variant the median over rounds of (variant − all patches) of the same round.
//   node_modules/node/bin/node scripts/esbuild/sdk-patches/measure.ts [rounds]
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { secretwrapRun } from "../../../bench/commands.ts";
import { NODE, REPO } from "../../../bench/config.ts";
import { interleave } from "../../../bench/interleave.ts";
import { azureTarget } from "../../../bench/providers/azure.ts";
import { gcpTarget } from "../../../bench/providers/gcp.ts";
import type { NetworkTarget } from "../../../bench/providers/target.ts";
import { vaultTarget } from "../../../bench/providers/vault.ts";
import { summarize } from "../../../bench/stats.ts";
import { timeCommand } from "../../../bench/spawn.ts";
import { removeWorkdirs, scratch } from "../../../bench/workdir.ts";
import { createTestPki } from "../../../test/servers/tls.ts";
import { sdkPatchesByProvider } from "./index.mjs";

const rounds = Number(process.argv[2] ?? "30");
const pki = createTestPki();
const targets: Record<string, (cwd: string) => Promise<NetworkTarget>> = {
  vault: (cwd) => vaultTarget(pki, 0, cwd),
  gcpsecrets: (cwd) => gcpTarget(0, cwd),
  azurekeyvault: (cwd) => azureTarget(pki, 0, cwd),
};

/** A launcher and the bundles built with `flags`, as the package lays them out (bin/, dist/). */
function buildVariant(label: string, flags: string[]): string {
  const root = scratch(label);
  execFileSync(NODE, ["scripts/build.mjs", "--outdir", join(root, "dist"), ...flags], { cwd: REPO });
  mkdirSync(join(root, "bin"));
  copyFileSync(join(REPO, "bin/secretwrap"), join(root, "bin/secretwrap"));
  return join(root, "bin/secretwrap");
}

const ms = (n: number): string => n.toFixed(1);
const all = buildVariant("all", []);
const plain = buildVariant("plain", ["--plain"]);
console.log(`Node ${process.version}, ${rounds} rounds, load average ${loadAverage()}`);
console.log("| provider | build | median ms | p90 ms | median of (build − all) per round |");
console.log("| --- | --- | --- | --- | --- |");
try {
  for (const [provider, make] of Object.entries(targets)) {
    const builds = [
      { label: "all patches", bin: all },
      { label: "--plain", bin: plain },
      ...(sdkPatchesByProvider[provider] ?? []).map(({ name }) => ({
        label: `--without ${name}`,
        bin: buildVariant(name, ["--without", name]),
      })),
    ];
    const target = await make(scratch(provider));
    const spec = { env: target.env, args: target.args, cwd: target.cwd };
    const samples = await interleave(
      builds.map(({ label, bin }) => ({ label, run: () => timeCommand(secretwrapRun({ ...spec, bin })) })),
      rounds,
      { warmup: 2 },
    );
    await target.close();
    const base = samples.get("all patches") ?? [];
    for (const { label } of builds) {
      const own = samples.get(label) ?? [];
      const s = summarize(own);
      const saved = summarize(own.map((x, i) => x - (base[i] ?? Number.NaN)));
      console.log(`| ${provider} | ${label} | ${ms(s.median)} | ${ms(s.p90)} | ${ms(saved.median)} |`);
    }
  }
} finally {
  removeWorkdirs();
}
console.log(`load average after: ${loadAverage()}`);

function loadAverage(): string {
  return execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
}
