// Canary values: unique strings planted as secrets and credentials, then searched for in everything
// the processes produced. A hit outside the places a test allows is a leak.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, lstatSync } from "node:fs";
import { join } from "node:path";

/**
 * Set by the suite's global set-up (test/global/shm-leftovers.ts): 8 hex digits naming this run of
 * the suite, so what its canaries end up in can be told from another suite's on the same machine.
 */
export const SUITE_TOKEN_VARIABLE = "SECRETWRAP_TEST_SUITE_TOKEN";

/**
 * A canary of the suite run with this token; without one, any canary (test/helpers/cli.ts looks for
 * those on every run's stderr).
 */
export const canaryPattern = (token = "[0-9a-f]{8}"): RegExp =>
  new RegExp(`CANARY_[A-Za-z0-9_]+_${token}[0-9a-f]{10}`);

/** `CANARY_<label>_<suite token><random>`: 18 hex digits in all (test/helpers/cli.ts looks for them). */
export function canary(label = "SECRET"): string {
  const suite = process.env[SUITE_TOKEN_VARIABLE] ?? randomBytes(4).toString("hex");
  return `CANARY_${label}_${suite}${randomBytes(5).toString("hex")}`;
}

/** Token-shaped canaries, so masking that keys on shapes is exercised too. */
export const shapedCanaries = (): { vaultToken: string; jwt: string; awsKey: string } => ({
  vaultToken: `hvs.${randomBytes(18).toString("base64url")}`,
  jwt: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString("base64url")}.${randomBytes(24).toString("base64url")}`,
  awsKey: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
});

export interface Hit {
  readonly canary: string;
  readonly where: string;
}

export interface ScanTargets {
  readonly texts?: Readonly<Record<string, string>>;
  /** Files or directories (walked; symlinks not followed). */
  readonly paths?: readonly string[];
  /** Live processes whose /proc cmdline and environ are scanned. */
  readonly pids?: readonly number[];
  /** Paths inside `paths` where the canary is expected (the secret's own target file). */
  readonly allowed?: readonly string[];
}

export function scanForCanaries(canaries: readonly string[], targets: ScanTargets): Hit[] {
  const hits: Hit[] = [];
  const check = (where: string, content: string | Buffer): void => {
    const text = typeof content === "string" ? content : content.toString("latin1");
    for (const c of canaries) if (text.includes(c)) hits.push({ canary: c, where });
  };
  for (const [where, text] of Object.entries(targets.texts ?? {})) check(where, text);
  const walk = (path: string): void => {
    if (!existsSync(path) || (targets.allowed ?? []).includes(path)) return;
    const stat = lstatSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else if (stat.isFile()) check(path, readFileSync(path));
  };
  for (const path of targets.paths ?? []) walk(path);
  for (const pid of targets.pids ?? []) {
    for (const file of ["cmdline", "environ"]) {
      try {
        check(`/proc/${pid}/${file}`, readFileSync(`/proc/${pid}/${file}`));
      } catch {
        // the process has exited
      }
    }
  }
  return hits;
}
