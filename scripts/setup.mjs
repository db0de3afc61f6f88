// Shared by `npm test` and `npm run example`: on a fresh clone they work with nothing but Node and npm.
// Installs the dependencies (the repo's Node 24 toolchain among them) if needed, and builds dist/.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const NODE24 = "node_modules/node/bin/node";

export function setup() {
  if (!existsSync(NODE24) || !existsSync("node_modules/.package-lock.json")) {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
  execFileSync(NODE24, ["scripts/build.mjs"], { stdio: "inherit" });
}

/** PATH with the repo's Node 24 first, so `node` means the toolchain Node. */
export function toolchainPath() {
  return `${process.cwd()}/node_modules/node/bin:${process.env.PATH ?? ""}`;
}
