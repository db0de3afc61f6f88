// Dynamic-secret leases for --watch: renewing one (sys/leases/renew) and giving it up
// (sys/leases/revoke). A lease id is as good as a handle on the credentials (whoever holds it and may
// call sys/leases/revoke can end them), so it is masked and only its path is ever written.
import { type Lease, type ProviderContext, SecretwrapError } from "../../src/provider-api.ts";
import { lifecycleError } from "./errors.ts";
import type { Client } from "./login.ts";
import { PROVIDER } from "./options.ts";
import type { CallInfo } from "./transport.ts";

/** "database/creds/app/…": the lease's path without its random suffix, for messages and audit lines. */
export function leaseLabel(id: string): string {
  const slash = id.lastIndexOf("/");
  return slash <= 0 ? "(lease)" : `${id.slice(0, slash)}/…`;
}

interface LeaseBody {
  readonly lease_id?: unknown;
  readonly lease_duration?: unknown;
  readonly renewable?: unknown;
}

const REFUSED_HINT =
  "the lease has ended (expired, revoked, or at its max TTL) or cannot be renewed: read the secret again for new credentials";

export async function renewLease(
  client: Client,
  origin: string,
  lease: Lease,
  incrementSec: number,
  signal: AbortSignal,
  ctx: ProviderContext,
): Promise<Lease> {
  const action = `renewing the lease ${leaseLabel(lease.id)}`;
  const call: CallInfo = {};
  let body: LeaseBody;
  try {
    // Vault's lease API takes the increment as whole seconds (protocols.md §1.2).
    body = (await client.request({
      path: "/sys/leases/renew",
      method: "PUT",
      json: { lease_id: lease.id, increment: Math.max(1, Math.round(incrementSec)) },
      signal,
      call,
    })) as LeaseBody;
  } catch (error) {
    throw lifecycleError(error, {
      stage: "lifecycle",
      path: "sys/leases/renew",
      origin,
      call,
      action,
      refusedHint: REFUSED_HINT,
    });
  }
  if (typeof body.lease_duration !== "number") {
    throw new SecretwrapError("FETCH_FAILED", `Vault's answer to ${action} has no lease_duration`, {
      subject: { provider: PROVIDER },
    });
  }
  // Vault keeps the id on renewal; should it ever give another, that one is what to renew next.
  const id = typeof body.lease_id === "string" && body.lease_id !== "" ? body.lease_id : lease.id;
  ctx.addSecret(id);
  return { id, durationSec: body.lease_duration, renewable: body.renewable === true };
}

export async function revokeLease(
  client: Client,
  origin: string,
  lease: Lease,
  signal: AbortSignal,
): Promise<void> {
  const call: CallInfo = {};
  try {
    await client.request({
      path: "/sys/leases/revoke",
      method: "PUT",
      json: { lease_id: lease.id },
      signal,
      call,
    });
  } catch (error) {
    throw lifecycleError(error, {
      stage: "lifecycle",
      path: "sys/leases/revoke",
      origin,
      call,
      action: `revoking the lease ${leaseLabel(lease.id)}`,
      refusedHint: "the lease may have ended already (expired or revoked)",
    });
  }
}
