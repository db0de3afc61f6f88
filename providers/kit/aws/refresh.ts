// Temporary credentials (web identity, assumed roles, SSO, the container endpoint, instance metadata)
// expire, about an hour after they were issued. A run that stays (--watch) must get new ones before
// then, as the SDK would had it been given the provider instead of the keys: the client asks this
// function before each request (the SDK memoizes it and asks again within 5 minutes of expiry), and
// new keys are masked like the first ones.
import type { AwsCredentialIdentity } from "./credentials.ts";

/** Ask for new keys this long before the old ones expire: before the SDK's own 5-minute window. */
const REFRESH_BEFORE_MS = 6 * 60_000;

export function refreshingCredentials(
  first: AwsCredentialIdentity,
  obtain: () => Promise<AwsCredentialIdentity>,
  masked: (identity: AwsCredentialIdentity) => void,
  now: () => number = Date.now,
): () => Promise<AwsCredentialIdentity> {
  let current = first;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return () => {
    const expiration = current.expiration?.getTime();
    if (expiration === undefined || expiration - now() > REFRESH_BEFORE_MS) return Promise.resolve(current);
    // One request for new keys, however many calls are waiting for them.
    pending ??= obtain()
      .then((next) => {
        masked(next);
        current = next;
        return next;
      })
      .finally(() => (pending = undefined));
    return pending;
  };
}
