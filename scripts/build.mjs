// One ESM bundle with a lazily loaded chunk per provider (and per SDK), so a run loads only what it
// uses and the published package needs no runtime dependencies.
import { build } from "esbuild";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: { bin: "src/bin.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: process.env.SECRETWRAP_BUILD_DEBUG === undefined,
  legalComments: "linked",
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies call require() and read __dirname/__filename (google-gax does so when it
  // loads); give every ESM chunk real ones.
  banner: {
    js: [
      "import { createRequire as __swCreateRequire } from 'node:module';",
      "import { fileURLToPath as __swFileURLToPath } from 'node:url';",
      "const require = __swCreateRequire(import.meta.url);",
      "const __filename = __swFileURLToPath(import.meta.url);",
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(" "),
  },
  logLevel: "warning",
});
