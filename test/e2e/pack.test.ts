// The published package: `npm pack` holds only bin/ and dist/, declares no runtime dependency, installs
// from the tarball alone (no registry) and runs from a temp dir.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pathFor } from "../helpers/cli.ts";
import { NODES, REPO } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("contains bin/ and dist/ only and no runtime dependencies; installs offline and runs under every Node", () => {
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, encoding: "utf8" }),
    ) as [{ filename: string; files: { path: string }[] }];
    const [info] = packed;
    const paths = info.files.map((f) => f.path);
    expect(
      paths.every(
        (p) =>
          p.startsWith("bin/") ||
          p.startsWith("dist/") ||
          ["package.json", "README.md", "LICENSE"].includes(p),
      ),
    ).toBe(true);
    expect(paths).toContain("bin/secretwrap");
    const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      dependencies?: object;
    };
    expect(manifest.dependencies ?? {}).toEqual({});

    const app = join(work, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), "{}");
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, info.filename)], {
      cwd: app,
      stdio: "ignore",
    });
    writeFileSync(join(app, "token"), "packed-value");
    for (const node of NODES) {
      const env = { PATH: pathFor(node), T: "ref+file://./token" };
      const bin = join(app, "node_modules/.bin/secretwrap");
      expect(
        execFileSync(bin, ["run", "--log-level", "error", "--", "sh", "-c", 'printf %s "$T"'], {
          cwd: app,
          env,
          encoding: "utf8",
        }),
      ).toBe("packed-value");
    }
  });
});
