// A request signed or asserted at the wrong time: AWS SigV4 (RequestTimeTooSkewed, "Signature
// expired"), an Entra ID client assertion outside its validity window (AADSTS700024, AADSTS500133),
// a Google service-account JWT "in a reasonable timeframe". Each vendor says it differently; the fix is
// always this machine's clock, and another attempt with the same clock fails the same way.
import { SecretwrapError, type ErrorSubject } from "../../src/provider-api.ts";

export const CLOCK_SKEW_HINT =
  "this machine's clock is off from the provider's: set it right (NTP, chrony, or the host's time sync for a container); signed requests and assertions are only valid within minutes of the real time; secretwrap does not retry this";

/** Vendors' own phrases for a rejected time (matched, never quoted back). */
const TIME_PHRASE =
  /signature expired|request time too skewed|requesttimetooskewed|clock skew|not yet valid|reasonable timeframe|check your iat and exp|(iat|nbf|exp) claim|time range|time skew/i;

/** Whether a vendor's error text (an AWS message, a Google error_description) says the time was wrong. */
export function mentionsClockSkew(text: string | undefined): boolean {
  return text !== undefined && TIME_PHRASE.test(text);
}

/** `evidence` is our own label for what the vendor said (an error code, AADSTS number), never its text. */
export function clockSkewError(where: string, evidence: string, subject?: ErrorSubject): SecretwrapError {
  return new SecretwrapError(
    "AUTH_FAILED",
    `${where}: the provider rejected the request's time (${evidence}): this machine's clock is wrong`,
    { hint: CLOCK_SKEW_HINT, ...(subject === undefined ? {} : { subject }) },
  );
}
