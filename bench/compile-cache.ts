// The bundle as installed (bin/secretwrap, dist/ and the compile cache beside it, filled by
// dist/warm-compile-cache.js as an image build would) and, for comparison, a copy of the same bin/ and
// dist/ without one, in a scratch dir: both measured in the same interleaved loop.
import { execFileSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { NODE, REPO } from "./config.ts";
import { scratch } from "./workdir.ts";

/** Fills <repo>/.compile-cache from the current dist/ (it starts from an empty cache). */
export function warmCompileCache(): void {
  execFileSync(NODE, [join(REPO, "dist/warm-compile-cache.js")], { stdio: ["ignore", "ignore", "inherit"] });
}

/** bin/secretwrap of a copy of the package with no compile cache beside its dist/. */
export function packageWithoutCompileCache(): string {
  const dir = scratch("no-compile-cache");
  for (const part of ["bin", "dist", "package.json"])
    cpSync(join(REPO, part), join(dir, part), { recursive: true });
  return join(dir, "bin/secretwrap");
}
