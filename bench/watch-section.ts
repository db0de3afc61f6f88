// The "Watch mode (#15)" section of bench/RESULTS.md belongs to `npm run bench:watch` (bench/watch.ts);
// `npm run bench` (bench/run.ts) rewrites the rest of that file and keeps this section as it is.
import { existsSync, readFileSync } from "node:fs";

export const SECTION = "## Watch mode (#15)";

/** `markdown` with `section` in place of its watch section (or appended). */
export function withWatchSection(markdown: string, section: string): string {
  const start = markdown.indexOf(SECTION);
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`;
  const next = markdown.indexOf("\n## ", start + SECTION.length);
  return `${markdown.slice(0, start)}${section}${next < 0 ? "" : markdown.slice(next + 1)}`;
}

/** The watch section of the RESULTS.md at `path`, if it has one. */
export function currentWatchSection(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const markdown = readFileSync(path, "utf8");
  const start = markdown.indexOf(SECTION);
  if (start < 0) return undefined;
  const next = markdown.indexOf("\n## ", start + SECTION.length);
  return markdown.slice(start, next < 0 ? undefined : next + 1);
}
