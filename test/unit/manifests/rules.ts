// The rules the example manifests (examples/kubernetes/, examples/compose/) are held to, as pure
// functions, so that each can be table-tested on its own (rules.test.ts) and applied to every
// container of every file (kubernetes.test.ts, compose.test.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { isRef, parseRef } from "../../../src/config/ref.ts";

export const REPO = new URL("../../../", import.meta.url).pathname;

/** Every YAML document of one file, as plain data; a syntax error or warning fails the file. */
export function yamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, "utf8")).map((document, index) => {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) {
      throw new Error(`${path} document ${index + 1}: ${problems.map((p) => p.message).join("; ")}`);
    }
    return document.toJS({ maxAliasCount: 0 }) as unknown;
  });
}

/** The .yaml/.yml files under a directory, recursively, sorted. */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * A name that says it holds a credential. Such a variable may hold only a reference (ref+…), or,
 * when it is a `_FILE` variable, an absolute path (to a file something else wrote).
 */
const SECRET_NAME =
  /(PASS(WORD|WD)?|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|(^|_)KEY($|_)|DATABASE_URL|DSN)/i;

/** secretwrap's own settings are checked by its CLI parser instead (SECRETWRAP_SECRETS_DIR is a path). */
export function secretLookingName(name: string): boolean {
  return SECRET_NAME.test(name) && !name.startsWith("SECRETWRAP_");
}

/**
 * What is wrong with one literal environment value in an example, or undefined. A reference must
 * parse with secretwrap's own parser; a secret-looking name must not hold a literal; no value may
 * look like a credential whatever its name.
 */
export function envValueProblem(name: string, value: string): string | undefined {
  if (isRef(value)) {
    try {
      parseRef(value);
      return undefined;
    } catch (error) {
      return `${name}: ${(error as Error).message}`;
    }
  }
  const shaped = credentialShape(value);
  if (shaped !== undefined) return `${name}: the value looks like ${shaped}`;
  if (!secretLookingName(name)) return undefined;
  if (name.endsWith("_FILE") && value.startsWith("/")) return undefined;
  return `${name}: a secret-looking variable holds a literal; give it a reference (ref+…)${name.endsWith("_FILE") ? " or an absolute path" : ""}`;
}

/** Shapes of real credentials (and of the suite's canaries): never in an example. */
const CREDENTIAL_SHAPES: readonly (readonly [string, RegExp])[] = [
  ["a Vault token", /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/],
  ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["a JWT", /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./],
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{30,}/],
  ["a Google API key", /\bAIza[0-9A-Za-z_-]{35}\b/],
  ["a Slack token", /\bxox[abpr]-[0-9A-Za-z-]{10,}/],
  ["a password in a URL", /:\/\/[^/\s:@]+:[^/\s@]+@/],
  ["a test canary", /CANARY_/],
];

export function credentialShape(text: string): string | undefined {
  return CREDENTIAL_SHAPES.find(([, pattern]) => pattern.test(text))?.[0];
}

/**
 * Pinned: a digest, or a version tag (not `latest`, not missing, with a digit in it). The examples
 * use tags so they stay readable; production should add the digest (examples/kubernetes/README.md).
 */
export function imageProblem(image: string): string | undefined {
  const match = /^([^@\s]+?)(?::([\w][\w.-]{0,127}))?(?:@sha256:([0-9a-f]{64}))?$/.exec(image);
  if (match === null) return `image ${image} is not an image reference`;
  const [, , tag, digest] = match;
  if (digest !== undefined) return undefined;
  if (tag === undefined) return `image ${image} has no tag: pin a version or a digest`;
  if (tag === "latest" || !/\d/.test(tag)) return `image ${image}: tag "${tag}" is not a version`;
  return undefined;
}

/**
 * Dockerfile.example's ENTRYPOINT and CMD per stage (exec form only), so a pod that sets no command
 * is checked with what its image really runs.
 */
export function dockerfileStages(
  text: string,
): Map<string, { entrypoint?: readonly string[]; cmd?: readonly string[] }> {
  const stages = new Map<string, { entrypoint?: readonly string[]; cmd?: readonly string[] }>();
  let current: { entrypoint?: readonly string[]; cmd?: readonly string[] } | undefined;
  for (const line of text.split("\n")) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from !== null) {
      current = {};
      stages.set(from[1] ?? "", current);
      continue;
    }
    const instruction = /^(ENTRYPOINT|CMD)\s+(\[.*\])\s*$/.exec(line);
    if (instruction !== null && current !== undefined) {
      const words = JSON.parse(instruction[2] ?? "[]") as string[];
      if (instruction[1] === "ENTRYPOINT") current.entrypoint = words;
      else current.cmd = words;
    }
  }
  return stages;
}

/**
 * The words after the `secretwrap` executable when the command line runs it (directly, or through
 * `tini --`), or undefined. A `secretwrap` elsewhere on the line (`cp … /usr/local/bin/secretwrap`)
 * is an argument, not the program.
 */
export function secretwrapArgv(argv: readonly string[]): string[] | undefined {
  const isProgram = (word: string | undefined, name: string): boolean =>
    word === name || (word?.endsWith(`/${name}`) ?? false);
  let rest = [...argv];
  if (isProgram(rest[0], "tini")) rest = rest.slice(rest.indexOf("--") + 1 || rest.length);
  return isProgram(rest[0], "secretwrap") ? rest.slice(1) : undefined;
}

/** The mount that holds `path` (the longest mountPath that is it or a parent of it). */
export function mountHolding<M extends { readonly mountPath: string }>(
  mounts: readonly M[],
  path: string,
): M | undefined {
  return mounts
    .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, "") + "/"))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}
