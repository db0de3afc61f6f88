// The Node builds the end-to-end tests run the CLI under: Node 24, the repo's toolchain (execve
// path), and Node 20 (no process.execve: the supervise path) — the machine's own where it is a
// Node 20, else one from the npm registry (scripts/ensure-node20.mjs links it into .cache/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

export interface NodeBuild {
  readonly name: string;
  readonly bin: string;
  readonly hasExecve: boolean;
}

const candidates: NodeBuild[] = [
  { name: "node24", bin: `${REPO}/node_modules/node/bin/node`, hasExecve: true },
  { name: "node20", bin: `${REPO}/.cache/node20/bin/node`, hasExecve: false },
];

export const NODES: readonly NodeBuild[] = candidates.filter((n) => existsSync(n.bin));
if (NODES.length !== candidates.length) {
  throw new Error(
    `missing Node builds for e2e tests: ${candidates
      .filter((n) => !existsSync(n.bin))
      .map((n) => n.bin)
      .join(", ")} (run npm ci and node scripts/ensure-node20.mjs)`,
  );
}

export const NODE24 = NODES[0] as NodeBuild;

export interface StartPath {
  readonly node: NodeBuild;
  /** Options of `run` that choose the path. */
  readonly extra: readonly string[];
  readonly label: string;
}

/** Every way `run` starts the app: exec and the --supervise hand-over (Node 24), spawn (Node 20). */
export const START_PATHS: readonly StartPath[] = NODES.flatMap((node) =>
  node.hasExecve
    ? [
        { node, extra: [], label: `${node.name} exec` },
        { node, extra: ["--supervise"], label: `${node.name} --supervise` },
      ]
    : [{ node, extra: [], label: `${node.name} spawn` }],
);
