// No file in src/ names a provider (issue 14): what the core knows of one comes from its descriptor in
// providers/registry.ts, so a new provider changes no src/ file. Comments count: they would go stale.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DESCRIPTORS } from "../../providers/registry.ts";
import { REPO } from "../helpers/nodes.ts";

const SRC = join(REPO, "src");
/** Generated from every string literal of the tree (scripts/vocabulary.mjs). */
const EXEMPT = new Set(["vocabulary.ts"]);
const CLOUDS = ["vault", "aws", "gcp", "google", "azure"];
/** Schemes that are also the core's own words ("file" outputs): only their reference form counts. */
const CORE_WORDS = new Set(["file"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !EXEMPT.has(relative(SRC, path)) ? [path] : [];
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const patterns: RegExp[] = [
  ...DESCRIPTORS.map((d) =>
    CORE_WORDS.has(d.scheme)
      ? new RegExp(`ref\\+${escape(d.scheme)}\\b`, "i")
      : new RegExp(`\\b${escape(d.scheme)}\\b`, "i"),
  ),
  ...DESCRIPTORS.flatMap((d) => d.envPrefixes).map((prefix) => new RegExp(`\\b${escape(prefix)}`)),
  ...CLOUDS.map((word) => new RegExp(`\\b${word}\\b`, "i")),
];

describe("src/ names no provider", () => {
  it("finds the scan's words in the registry", () => {
    expect(DESCRIPTORS.length).toBeGreaterThan(1);
    expect(patterns.length).toBeGreaterThan(CLOUDS.length + DESCRIPTORS.length);
  });

  it("no scheme, provider variable prefix or cloud name appears in src/", () => {
    const found: string[] = [];
    for (const path of sources(SRC)) {
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((line, index) => {
          const hit = patterns.find((pattern) => pattern.test(line));
          if (hit !== undefined)
            found.push(`${relative(REPO, path)}:${index + 1}: ${hit.source}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});
