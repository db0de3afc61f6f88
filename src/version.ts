// What a bug report needs to know about this secretwrap: its version, the Node running it, the
// platform, and how it was packaged.
export const VERSION = "0.1.0";

/** Stamped by the build (scripts/esbuild/build-stamp.mjs): the commit it was built from. */
declare const __SECRETWRAP_BUILD__: string | undefined;

export type Packaging = "single executable (SEA)" | "npm bundle" | "source";

export interface VersionFacts {
  readonly version: string;
  readonly node: string;
  readonly platform: string;
  readonly packaging: Packaging;
  readonly build?: string;
}

export function versionFacts(): VersionFacts {
  // A source run (tests, tsx) has no stamp: the identifier is not even defined there.
  const build = typeof __SECRETWRAP_BUILD__ === "string" ? __SECRETWRAP_BUILD__ : undefined;
  return {
    version: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    packaging: isSea() ? "single executable (SEA)" : build === undefined ? "source" : "npm bundle",
    ...(build === undefined ? {} : { build }),
  };
}

/** Asked through getBuiltinModule: node:sea is absent before Node 20.12, and `version` must still work. */
function isSea(): boolean {
  const sea = process.getBuiltinModule?.("node:sea") as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() === true;
}

export function versionReport(facts: VersionFacts = versionFacts()): string {
  const lines = [
    `secretwrap ${facts.version}`,
    `node ${facts.node}`,
    `platform ${facts.platform}`,
    `packaging ${facts.packaging}`,
  ];
  if (facts.build !== undefined) lines.push(`build ${facts.build}`);
  return lines.join("\n") + "\n";
}
