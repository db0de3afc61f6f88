// Which HTTP answers are worth another attempt, the same for every provider and endpoint (secret API,
// token endpoint, STS, metadata server). What 401, 403 and 404 mean is each service's own rule.

/** 408 Request Timeout, 429 Too Many Requests and every 5xx: the same request may succeed later. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
