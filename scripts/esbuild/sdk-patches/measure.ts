// What each SDK patch saves, for the table in README.md here. Builds the CLI once with every patch,
// once with none (--plain) and once without each patch, then times `secretwrap run -- /bin/true`
// (50 secrets in 10 paths, the bench's set-up) against each patched provider's local fake with no
// injected latency, every variant once per round in rotating order (bench/interleave.ts). Prints
// medians, and per variant the median over rounds of (variant − all patches) of the same round; then
// the same for CPU time (user + sys, from GNU time in 10 ms steps, so a mean), which other processes
// on the machine disturb less than wall time.
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
import { timeCommand, type Command } from "../../../bench/spawn.ts";
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
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const CPU_MARK = "sdk-patches-cpu-s=";

/** Wall milliseconds of one run under GNU time; its CPU milliseconds go to `cpu`. */
async function timed(command: Command, cpu: number[]): Promise<number> {
  let stderr = "";
  const wall = await timeCommand(
    { ...command, file: "/usr/bin/time", args: ["-f", `${CPU_MARK}%U %S`, command.file, ...command.args] },
    (text) => (stderr = text),
  );
  const [user = "", sys = ""] = new RegExp(`${CPU_MARK}(\\S+) (\\S+)`).exec(stderr)?.slice(1) ?? [];
  cpu.push((Number(user) + Number(sys)) * 1000);
  return wall;
}

const all = buildVariant("all", []);
const plain = buildVariant("plain", ["--plain"]);
console.log(`Node ${process.version}, ${rounds} rounds, load average ${loadAverage()}`);
console.log("| provider | build | wall median ms | p90 | median (build − all) | CPU mean ms | build − all |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
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
    const cpu = new Map(builds.map(({ label }) => [label, [] as number[]]));
    const samples = await interleave(
      builds.map(({ label, bin }) => ({
        label,
        run: async (round) => {
          const own: number[] = [];
          const wall = await timed(secretwrapRun({ ...spec, bin }), own);
          if (round >= 0) cpu.get(label)?.push(...own);
          return wall;
        },
      })),
      rounds,
      { warmup: 2 },
    );
    await target.close();
    const base = samples.get("all patches") ?? [];
    const baseCpu = mean(cpu.get("all patches") ?? []);
    for (const { label } of builds) {
      const own = samples.get(label) ?? [];
      const s = summarize(own);
      const saved = summarize(own.map((x, i) => x - (base[i] ?? Number.NaN)));
      const ownCpu = mean(cpu.get(label) ?? []);
      console.log(
        `| ${provider} | ${label} | ${ms(s.median)} | ${ms(s.p90)} | ${ms(saved.median)} | ${ms(ownCpu)} | ${ms(ownCpu - baseCpu)} |`,
      );
    }
  }
} finally {
  removeWorkdirs();
}
console.log(`load average after: ${loadAverage()}`);

function loadAverage(): string {
  return execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
}
