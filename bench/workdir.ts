// Scratch space for one bench run, removed at the end: a root under the temp dir (HOME, fixtures,
// config files) and a parent under /dev/shm for the secrets dirs that `run` writes. secretwrap's default
// secrets dir is a fresh /dev/shm/secretwrap-* that nobody removes after exec; giving each run its own
// --secrets-dir under our parent keeps /dev/shm clean and costs the same (one mkdir).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "secretwrap-bench-"));
const shm = mkdtempSync("/dev/shm/secretwrap-bench-");
let counter = 0;

/** Empty: no ~/.aws, ~/.config/gcloud or ~/.azure of this machine may change a run. */
export const HOME = join(root, "home");
mkdirSync(HOME);

/** A fresh directory for one scenario's fixtures. */
export function scratch(name: string): string {
  const dir = join(root, `${++counter}-${name}`);
  mkdirSync(dir);
  return dir;
}

/** A path that does not exist yet, for one run's --secrets-dir (secretwrap creates it 0700). */
export function freshSecretsDir(): string {
  return join(shm, String(++counter));
}

export function removeWorkdirs(): void {
  rmSync(root, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
}
