// Where things are and how the bench runs: the repo's own Node 24 first on PATH (the system Node is 20),
// the built CLI, the single executable, and how many interleaved rounds each scenario gets.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HOME } from "./workdir.ts";

export const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
export const NODE = join(REPO, "node_modules/node/bin/node");
export const CLI = join(REPO, "bin/secretwrap");
export const SEA = join(REPO, "dist-sea/secretwrap");
export const DOTENVX = join(REPO, "node_modules/.bin/dotenvx");
export const ENV_CMD = join(REPO, "node_modules/.bin/env-cmd");

/** At least 10 (the floor); 20 keeps the whole bench near three minutes on 2 busy cores. */
export const ROUNDS = Math.max(10, Number(process.env["BENCH_ROUNDS"] ?? "20"));
/** What every fake server adds to every response in scenarios 2 and 3. */
export const LATENCY_MS = 20;

/**
 * The whole environment every measured command starts from. Built from scratch rather than copied:
 * this sandbox sets NODE_EXTRA_CA_CERTS, which makes the single executable re-execute itself once
 * (it moves that variable aside for the app), and it would also make every Node load a CA bundle.
 */
export function baseEnv(): Record<string, string> {
  return {
    PATH: `${dirname(NODE)}:/usr/local/bin:/usr/bin:/bin`,
    HOME,
    LANG: "C.UTF-8",
    // No host cloud configuration or metadata endpoint may be consulted by any provider.
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}
