// `secretwrap version` carries what a bug report needs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { VERSION, versionFacts, versionReport } from "../../src/version.ts";

describe("R13-small: version", () => {
  it("R13-small: names secretwrap's version (package.json's), Node, platform and packaging", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
    const report = versionReport();
    expect(report).toBe(
      [
        `secretwrap ${pkg.version}`,
        `node ${process.version}`,
        `platform ${process.platform}-${process.arch}`,
        // tests run the sources: no build stamp, not an executable
        "packaging source",
        "",
      ].join("\n"),
    );
    expect(versionFacts()).not.toHaveProperty("build");
  });

  it.each([
    ["npm bundle", "0123456789ab"],
    ["single executable (SEA)", "0123456789ab+dirty"],
  ] as const)("R13-small: a %s build prints its packaging and build line", (packaging, build) => {
    const facts = { version: "9.9.9", node: "v24.0.0", platform: "linux-arm64", packaging, build };
    expect(versionReport(facts).split("\n")).toEqual([
      "secretwrap 9.9.9",
      "node v24.0.0",
      "platform linux-arm64",
      `packaging ${packaging}`,
      `build ${build}`,
      "",
    ]);
  });
});
