// `secretwrap version` names the commit a bundle was built from (src/version.ts reads the constant).
// One git call at build time; no git (an image built from a copied context) means no stamp, not a
// failure. "+dirty": sources differed from the commit, so the commit alone does not identify them.
import { execFileSync } from "node:child_process";

export function buildStamp(repo) {
  const git = (...args) =>
    execFileSync("git", ["-C", repo, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    const commit = git("rev-parse", "--short=12", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "providers") !== "";
    return { __SECRETWRAP_BUILD__: JSON.stringify(`${commit}${dirty ? "+dirty" : ""}`) };
  } catch {
    return {};
  }
}
