// Scenarios 2 and 3's floors: each provider's official SDK alone, in a minimal script with no
// secretwrap code (bench/floors/<provider>.ts), doing the same job against the same fake and then
// exec'ing /bin/true (run by commands.ts's sdkFloor). Bundled at bench time as secretwrap is shipped,
// since a bundle loads faster than resolving node_modules, so that secretwrap minus the floor is what
// secretwrap's own code costs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { NODE, REPO } from "./config.ts";

/** Bundles every SDK floor into `dir` (a bench scratch dir) by bench/build-sdk-floors.mjs, or throws. */
export function buildSdkFloors(dir: string): string {
  const built = spawnSync(NODE, [join(REPO, "bench/build-sdk-floors.mjs"), dir], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (built.status !== 0)
    throw new Error(
      `bench/build-sdk-floors.mjs failed (${built.status ?? built.signal}): ${built.stderr.slice(-1000)}`,
    );
  return dir;
}
