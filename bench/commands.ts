// The measured command lines. Every `secretwrap run` gets a secrets dir of its own (a new path each
// time: secretwrap refuses an existing target), and the same trivial app, /bin/true, as the peers.
import { CLI, NODE, baseEnv } from "./config.ts";
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

/** The floor: the same Node starting and doing nothing. */
export function bareNode(cwd: string): Command {
  return { file: NODE, args: ["-e", "0"], env: baseEnv(), cwd };
}
