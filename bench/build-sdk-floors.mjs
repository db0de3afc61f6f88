// Bundles bench/floors/<provider>.ts into OUTDIR/<provider>.mjs the way scripts/build.mjs ships
// secretwrap (ESM, minified, the same banner, builtins through process.getBuiltinModule, and each SDK's
// load-time edits), so a floor and secretwrap load their SDK alike and differ only in secretwrap's own
// code. One self-contained file per floor: no lazily loaded chunks, since a floor uses all it loads.
// (Scenario 1's floor, bench/floors/files.mjs, uses builtins only and runs as it is.)
//   node bench/build-sdk-floors.mjs OUTDIR
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { banner } from "../scripts/esbuild/banner.mjs";
import { builtinsThroughRequire } from "../scripts/esbuild/builtins.mjs";
import { sdkPatchesByProvider } from "../scripts/esbuild/sdk-patches/index.mjs";

const FLOORS = join(dirname(fileURLToPath(import.meta.url)), "floors");
const outdir = process.argv[2];
if (outdir === undefined) throw new Error("usage: node bench/build-sdk-floors.mjs OUTDIR");

await Promise.all(
  Object.entries(sdkPatchesByProvider).map(([name, plugins]) =>
    build({
      entryPoints: [join(FLOORS, `${name}.ts`)],
      outfile: join(outdir, `${name}.mjs`),
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      minify: true,
      banner,
      plugins: [builtinsThroughRequire, ...plugins],
      logLevel: "warning",
    }),
  ),
);
