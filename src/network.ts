// How every provider tells a passing network failure from a permanent one, in one place.

/**
 * Socket and resolver failures worth another attempt. ENOTFOUND is not one: the name has no DNS
 * record (a typo), and asking again will not create it; EAI_AGAIN means no resolver answered.
 */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ECANCELED",
  "UND_ERR_SOCKET",
  "ERR_STREAM_PREMATURE_CLOSE",
  // @azure/core-rest-pipeline's names for a request that failed below HTTP
  "REQUEST_SEND_ERROR",
  "PARSE_ERROR",
]);

/** Certificate and TLS failures: never transient, and the message says so (a CA or name problem). */
export const TLS_FAILURE =
  /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO|ERR_TLS|ERR_SSL|HOSTNAME|EPROTO/;
