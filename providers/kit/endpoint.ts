// Where credential-bearing requests may go. A config or env var that points a provider at plain HTTP
// on another host would send tokens in clear text to whoever answers there.
import { isIP } from "node:net";
import { SecretwrapError } from "../../src/provider-api.ts";

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
}

/** Parses a provider endpoint; https always, http only to loopback or with allowHttp. */
export function checkEndpoint(raw: string, provider: string, allowHttp = false): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: endpoint "${raw}" is not a URL`, {
      subject: { provider },
    });
  }
  if (url.username !== "" || url.password !== "") {
    throw new SecretwrapError("CONFIG_INVALID", `${provider}: endpoint must not contain credentials`, {
      subject: { provider },
    });
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && (isLoopbackHost(url.hostname) || allowHttp)) return url;
  throw new SecretwrapError(
    "CONFIG_INVALID",
    `${provider}: refusing ${url.protocol}//${url.host}: credentials would travel unencrypted`,
    {
      subject: { provider },
      hint: `use https://, or set \`allowHttp: true\` in the providers.${provider} block if this network is trusted`,
    },
  );
}
