// --compat: the peer tools' reference forms (providers/compat/) as references. Off by default, so a
// value such as `sm://…` stays a literal value unless the user opted in to that tool. Once opted in, a
// value that starts like one of the tool's forms IS a reference: a malformed one fails the run (78)
// instead of reaching the app as text, because a user who migrated a manifest expects fail-closed,
// not a typo handed to the app as a password. Messages about such a value never show it: the value
// did not parse as a reference, so it may be a secret that merely looks like one.
import { SecretwrapError } from "../errors.ts";
import { describeRef } from "./ref.ts";
import { peerForms } from "../provider.ts";
import { parseJson } from "../json.ts";
import type { PeerReading } from "../provider-api.ts";

/** Where a declaration came from when it was written in a peer tool's form. */
export interface PeerOrigin {
  readonly tool: string;
  /** The value as written. */
  readonly form: string;
  /** Why a JSON object value is refused for this form (PeerReading.jsonObject). */
  readonly jsonObject?: { readonly problem: string; readonly hint: string };
}

export type PeerDeclaration =
  | { readonly ref: string; readonly file: boolean; readonly origin: PeerOrigin }
  | { readonly error: SecretwrapError };

/**
 * The reference a value stands for under the enabled tools, or undefined when no enabled tool reads
 * it as one of its forms (then it is a literal value). Pure.
 */
export function readPeerForm(
  name: string,
  value: string,
  tools: readonly string[],
  source: string,
): PeerDeclaration | undefined {
  for (const forms of peerForms()) {
    if (!tools.includes(forms.tool)) continue;
    const reading: PeerReading | undefined = forms.read(value);
    if (reading === undefined) continue;
    if ("problem" in reading) {
      return {
        error: new SecretwrapError(
          "REF_INVALID",
          `the value of ${name} starts like a ${forms.tool} reference (--compat ${forms.tool}), but ${reading.problem} (${source}); the value is not shown`,
          { hint: `${reading.hint} (${forms.docs})`, subject: { secret: name } },
        ),
      };
    }
    const origin: PeerOrigin = {
      tool: forms.tool,
      form: value,
      ...(reading.jsonObject === undefined ? {} : { jsonObject: reading.jsonObject }),
    };
    return { ref: reading.ref, file: reading.file === true, origin };
  }
  return undefined;
}

/**
 * A fetched value the declaration's peer form would not have delivered whole (a JSON object where the
 * tool sets one variable per key), as an error that names no part of the value; else undefined.
 */
export function peerValueProblem(
  origin: PeerOrigin | undefined,
  field: string | undefined,
  bytes: Uint8Array,
): SecretwrapError | undefined {
  if (origin?.jsonObject === undefined || field !== undefined) return undefined;
  let document: unknown;
  try {
    document = parseJson(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) return undefined;
  return new SecretwrapError(
    "REF_INVALID",
    `the secret is a JSON object, and ${origin.tool} ${origin.jsonObject.problem}`,
    { hint: origin.jsonObject.hint },
  );
}

/**
 * The reference a peer form maps to did not parse (a project id the provider refuses, an unknown
 * scheme): said without the reference, which is made of the value's parts, as for a malformed form.
 */
export function unusablePeerRef(
  name: string,
  ref: string,
  origin: PeerOrigin,
  error: unknown,
  source: string,
): SecretwrapError {
  if (!(error instanceof SecretwrapError)) throw error;
  const prefix = `invalid reference ${describeRef(ref)}: `;
  const why = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : "it does not parse";
  return new SecretwrapError(
    error.code,
    `the value of ${name} reads as a ${origin.tool} reference (--compat ${origin.tool}), but the reference it stands for is invalid: ${why} (${source}); the value is not shown`,
    { hint: error.hint, subject: { secret: name } },
  );
}
