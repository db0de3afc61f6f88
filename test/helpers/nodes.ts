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
