// Sections of bench/RESULTS.md that `npm run bench` (bench/run.ts) keeps as they are while it rewrites
// the rest of that file: "Watch mode (#15)", which belongs to `npm run bench:watch` (bench/watch.ts),
// and the hand-written reading of issue 17's numbers (what does not hold, its floor and its cause).
import { existsSync, readFileSync } from "node:fs";

export const SECTION = "## Watch mode (#15)";
export const READING_17 = "## Start-up against the floor (#17): reading";
/** In the order they follow the generated part. */
export const KEPT_SECTIONS = [READING_17, SECTION] as const;

/** `markdown` with `section` in place of its section titled `title` (or appended). */
export function withWatchSection(markdown: string, section: string, title: string = SECTION): string {
  const start = markdown.indexOf(title);
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`;
  const next = markdown.indexOf("\n## ", start + title.length);
  return `${markdown.slice(0, start)}${section}${next < 0 ? "" : markdown.slice(next + 1)}`;
}

/** The section titled `title` of the RESULTS.md at `path`, if it has one. */
export function currentWatchSection(path: string, title: string = SECTION): string | undefined {
  if (!existsSync(path)) return undefined;
  const markdown = readFileSync(path, "utf8");
  const start = markdown.indexOf(title);
  if (start < 0) return undefined;
  const next = markdown.indexOf("\n## ", start + title.length);
  return markdown.slice(start, next < 0 ? undefined : next + 1);
}
