// Config `templates:` → parsed templates, with every problem of every template (its file, its syntax,
// its references) as a config problem naming file:line:column. A `source` is read now, relative to the
// config file's directory, by the rule every declaration file follows (read.ts): a regular file (a
// symlink to one is followed, as a Kubernetes ConfigMap mounts them), at most 1 MiB, and valid UTF-8.
// An inline `content` is positioned within itself: "secretwrap.yaml: templates[0].content:3:7".
import { dirname, isAbsolute, join } from "node:path";
import { SecretwrapError } from "../errors.ts";
import type { TemplateDeclaration } from "../plan.ts";
import { printable, SHOWN_CHARS } from "../printable.ts";
import { parseTemplate } from "../template/parse.ts";
import { readDeclarationBytes } from "./read.ts";
import type { TemplateEntry } from "./schema.ts";

// ignoreBOM: a leading U+FEFF is part of the value, not a marker to drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Each entry's text, parsed; problems are added to `problems`, valid entries returned. */
export function loadTemplates(
  configPath: string,
  entries: readonly TemplateEntry[],
  problems: SecretwrapError[],
): TemplateDeclaration[] {
  const declarations: TemplateDeclaration[] = [];
  for (const entry of entries) {
    const where = `templates[${entry.index}]`;
    const source = `${configPath} ${where}`;
    const text = templateText(configPath, entry, problems);
    const parsed = text === undefined ? undefined : parseTemplate(text);
    if (parsed !== undefined && "problems" in parsed) {
      const shownFile =
        entry.source === undefined
          ? `${configPath}: ${where}.content`
          : printable(sourcePath(configPath, entry.source), SHOWN_CHARS.reference);
      const suffix = entry.source === undefined ? "" : ` (${where} in ${configPath})`;
      for (const p of parsed.problems) {
        problems.push(
          new SecretwrapError(p.code, `${shownFile}:${p.at.line}:${p.at.column}: ${p.message}${suffix}`, {
            ...(p.hint === undefined ? {} : { hint: p.hint }),
          }),
        );
      }
    }
    if (entry.target === undefined) continue;
    // A template with problems still has its file name, mode and variable checked (plan.ts), so one
    // run names those too; it renders nothing.
    const usable = parsed !== undefined && "template" in parsed && !entry.rejected;
    declarations.push({
      ...(usable ? { template: parsed.template } : {}),
      target: entry.target,
      ...(entry.mode === undefined ? {} : { mode: entry.mode }),
      ...(entry.env === undefined ? {} : { env: entry.env }),
      source,
    });
  }
  return declarations;
}

/** A template's source, as the config names it: relative to the config file's directory. */
function sourcePath(configPath: string, source: string): string {
  return isAbsolute(source) ? source : join(dirname(configPath), source);
}

function templateText(
  configPath: string,
  entry: TemplateEntry,
  problems: SecretwrapError[],
): string | undefined {
  if (entry.content !== undefined) return entry.source === undefined ? entry.content : undefined;
  if (entry.source === undefined) return undefined;
  const shown = printable(entry.source, SHOWN_CHARS.reference);
  const fail = (why: string): undefined => {
    problems.push(
      new SecretwrapError(
        "CONFIG_INVALID",
        `${configPath}: templates[${entry.index}].source: ${shown} ${why}`,
        {
          hint: "source is a template file, relative to the config file's directory",
        },
      ),
    );
    return undefined;
  };
  const read = readDeclarationBytes(sourcePath(configPath, entry.source));
  if ("problem" in read) return fail(read.problem);
  try {
    return strictUtf8.decode(read.bytes);
  } catch {
    return fail("is not valid UTF-8 text");
  }
}
