// The one temp-dir helper of the suites: each test file makes one private work dir and takes fresh,
// numbered subdirectories of it, so no test sees another's files and one rmSync cleans up.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * scratch() → `parent`/1, `parent`/2, … (or under `base` when given), each made now with `mode` (the
 * umask applies, as for mkdirSync).
 */
export function scratchDirs(parent: string, mode?: number): (base?: string) => string {
  let counter = 0;
  return (base = parent) => {
    const dir = join(base, String(++counter));
    mkdirSync(dir, mode === undefined ? undefined : { mode });
    return dir;
  };
}
