// The parts of a Compose file (compose-spec) the example's tests read, and its two spellings of the
// same things: environment as a map or a list, a service's secrets as names or {source, target}.
import { yamlDocuments } from "./rules.ts";

export interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly entrypoint?: string | readonly string[];
  readonly environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly secrets?: readonly (string | { readonly source: string; readonly target?: string })[];
  readonly volumes?: readonly string[];
  readonly profiles?: readonly string[];
  readonly user?: string;
  readonly read_only?: boolean;
  readonly cap_drop?: readonly string[];
  readonly security_opt?: readonly string[];
}

export interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly secrets?: Readonly<Record<string, { readonly file?: string; readonly environment?: string }>>;
}

export function composeFile(path: string): ComposeFile {
  const documents = yamlDocuments(path);
  if (documents.length !== 1) throw new Error(`${path}: expected one YAML document`);
  return documents[0] as ComposeFile;
}

/** NAME → value; a list entry without `=` (taken from the caller's environment) has no value here. */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      (environment as readonly string[])
        .filter((entry) => entry.includes("="))
        .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
    );
  }
  return Object.fromEntries(
    Object.entries(environment as Readonly<Record<string, string | number | boolean | null>>).map(
      ([name, value]) => [name, String(value ?? "")],
    ),
  );
}

/**
 * Where each secret of the service is mounted → its name: /run/secrets/<target>, the target being
 * the source's name unless given (an absolute target is used as is).
 */
export function serviceSecretTargets(service: ComposeService): Map<string, string> {
  const targets = new Map<string, string>();
  for (const entry of service.secrets ?? []) {
    const source = typeof entry === "string" ? entry : entry.source;
    const target = typeof entry === "string" ? entry : (entry.target ?? entry.source);
    targets.set(target.startsWith("/") ? target : `/run/secrets/${target}`, source);
  }
  return targets;
}
