// The measured command lines. Every `secretwrap run` gets a secrets dir of its own (a new path each
// time: secretwrap refuses an existing target), and the same trivial app, /bin/true, as the peers.
import { join } from "node:path";
import { CLI, NODE, REPO, baseEnv } from "./config.ts";
import type { NetworkTarget } from "./providers/target.ts";
import type { Command } from "./spawn.ts";
import { freshSecretsDir } from "./workdir.ts";

export interface RunSpec {
  /** The launcher or the single executable; default bin/secretwrap. */
  readonly bin?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  readonly cwd: string;
  readonly app?: readonly string[];
}

export function secretwrapRun(spec: RunSpec): Command {
  return {
    file: spec.bin ?? CLI,
    args: [
      "run",
      "--secrets-dir",
      freshSecretsDir(),
      ...(spec.args ?? []),
      "--",
      ...(spec.app ?? ["/bin/true"]),
    ],
    env: { ...baseEnv(), ...spec.env },
    cwd: spec.cwd,
  };
}

/** `secretwrap version`: the launcher, core.js and commander, and nothing of a run. */
export function secretwrapVersion(cwd: string): Command {
  return { file: CLI, args: ["version"], env: baseEnv(), cwd };
}

/** Scenario 1's job done by a bare Node script (bench/floors/files.mjs), with the same references. */
export function filesFloor(env: Readonly<Record<string, string>>, cwd: string): Command {
  return {
    file: NODE,
    args: ["--no-warnings", join(REPO, "bench/floors/files.mjs"), freshSecretsDir(), "/bin/true"],
    env: { ...baseEnv(), ...env },
    cwd,
  };
}

/**
 * Scenarios 2 and 3's job done by the provider's official SDK alone: the floor bundled into `dir`
 * (sdk-floors.ts), with the environment, arguments and directory secretwrap gets for `target`.
 */
export function sdkFloor(dir: string, target: NetworkTarget): Command {
  return {
    file: NODE,
    args: [join(dir, `${target.name}.mjs`), ...target.args],
    env: { ...baseEnv(), ...target.env },
    cwd: target.cwd,
  };
}

/** The floor: the same Node starting and doing nothing. */
export function bareNode(cwd: string): Command {
  return { file: NODE, args: ["-e", "0"], env: baseEnv(), cwd };
}
