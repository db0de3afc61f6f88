// The build's command line: where it writes and which SDK patches (sdk-patches/) it applies.
//   --outdir DIR    write there instead of dist/ (a bundle of one's own, to test or measure)
//   --plain         no SDK patch: the SDKs as published
//   --without NAME  every SDK patch but NAME (repeatable), to measure what that one saves
import { parseArgs } from "node:util";
import { sdkPatches } from "./sdk-patches/index.mjs";

export function buildOptions(args) {
  const { values } = parseArgs({
    args,
    options: {
      outdir: { type: "string", default: "dist" },
      plain: { type: "boolean", default: false },
      without: { type: "string", multiple: true, default: [] },
    },
  });
  const unknown = values.without.filter((name) => !sdkPatches.some((patch) => patch.name === name));
  if (unknown.length > 0) {
    throw new Error(`--without ${unknown.join(", ")}: no such SDK patch in scripts/esbuild/sdk-patches/`);
  }
  return {
    outdir: values.outdir,
    sdkPatches: values.plain ? [] : sdkPatches.filter((patch) => !values.without.includes(patch.name)),
  };
}
