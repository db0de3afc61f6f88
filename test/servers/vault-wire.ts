// The wire shapes every fake-Vault module answers with (reference/protocols.md §1.1): the response
// envelope, `{"errors":[…]}` bodies, Vault's 403 texts, and the policy model (paths, trailing *).
import { randomUUID } from "node:crypto";
import type { Reply } from "./harness.ts";

export const PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n";
export const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

export function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: "",
    ...fields,
  };
}

export function ok(fields: Record<string, unknown>, status = 200): Reply {
  return { status, body: envelope(fields) };
}

export function errors(status: number, ...messages: string[]): Reply {
  return { status, body: { errors: messages } };
}

/** A token's policy as the fake models it: API paths it may use, a trailing * matching a prefix. */
export function allowed(policy: readonly string[], path: string): boolean {
  return policy.some((p) => (p.endsWith("*") ? path.startsWith(p.slice(0, -1)) : p === path));
}
