// --revoke-on-exit: when the watch ends (the app exited, or secretwrap was stopped), every lease it
// holds and every login token it obtained is given up, so a credential outlives the app by
// nothing. Best effort within a fixed budget: the exit code stays the app's, a failure is reported.
import { asSecretwrapError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Scheme } from "../provider.ts";
import type { Session } from "../provider-api.ts";
import { secretOf, type HeldLease } from "./lifecycle.ts";

/** How long revocation may delay the exit, all of it together. */
export const REVOKE_BUDGET_MS = 3_000;

/**
 * The part of the budget the leases may take: the rest is the tokens' own, so a lease revocation that
 * hangs cannot keep the token (whose revocation ends every lease it read) from being revoked.
 */
const LEASES_SHARE = 2 / 3;

export async function revokeAll(
  leases: readonly HeldLease[],
  sessions: ReadonlyMap<Scheme, Session>,
  log: Logger,
  budgetMs = REVOKE_BUDGET_MS,
): Promise<void> {
  const signal = AbortSignal.timeout(budgetMs);
  const leasesSignal = AbortSignal.any([signal, AbortSignal.timeout(Math.floor(budgetMs * LEASES_SHARE))]);
  const failed = (what: string, provider: Scheme) => (error: unknown) =>
    log.warn(`could not revoke ${what}: ${asSecretwrapError(error).message}`, { provider });
  // Leases first: revoking a token also ends its leases, and a lease revoked that way reports an error.
  await Promise.all(
    leases.map(({ session, lease, ref, scheme }) => {
      const what = `the lease of ${secretOf(ref)}`;
      if (session.revoke === undefined) return Promise.resolve();
      return session
        .revoke(lease, leasesSignal)
        .then(
          () => log.info(`revoked ${what}`, { provider: scheme, ref: secretOf(ref) }),
          failed(what, scheme),
        );
    }),
  );
  await Promise.all(
    [...sessions].map(([scheme, session]) => {
      if (session.revokeToken === undefined) return Promise.resolve();
      const what = `the ${scheme} login token`;
      return session.revokeToken(signal).then(
        (revoked) => {
          if (revoked) log.info(`revoked ${what}`, { provider: scheme });
        },
        failed(what, scheme),
      );
    }),
  );
}
