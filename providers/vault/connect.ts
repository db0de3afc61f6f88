// connect(): settings from the block and the environment, node-vault with our transport, one login.
import type { ProviderContext, Session } from "../../src/provider-api.ts";
import { login } from "./login.ts";
import { PROVIDER, type Options } from "./options.ts";
import { VaultSession } from "./session.ts";
import { isSet } from "../kit/env-values.ts";
import { settingsFrom } from "./settings.ts";
import { createTransport } from "./transport.ts";
import { SecretIds } from "./unwrap.ts";

/** `options` passed the block's schema (options.ts) in the core. */
export async function connect(options: Options, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  const settings = settingsFrom(options, ctx.env);
  if (isSet(ctx.env["VAULT_SKIP_VERIFY"])) {
    ctx.log.warn(
      "VAULT_SKIP_VERIFY is ignored: secretwrap always verifies Vault's certificate (give its CA with VAULT_CACERT or caFile)",
      { provider: PROVIDER },
    );
  }
  const [{ default: createClient }, { default: axios }] = await Promise.all([
    import("node-vault"),
    import("axios"),
  ]);
  const transport = createTransport(axios, settings);
  try {
    const client = createClient({
      endpoint: `${settings.url.origin}${settings.url.pathname.replace(/\/+$/, "")}`,
      // node-vault falls back to process.env for these; everything comes from settings instead.
      ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
      pathPrefix: "",
      debug: () => undefined,
      "request-promise": { defaults: () => transport.rp },
    });
    client.token = "";
    if (settings.namespace === undefined) (client as { namespace?: string }).namespace = "";
    (client as { pathPrefix?: string }).pathPrefix = "";
    const secretIds = ctx.runState.get(SecretIds);
    const grant = await login(client, settings, ctx, secretIds, signal);
    return new VaultSession(client, transport, settings, ctx, secretIds, grant);
  } catch (error) {
    transport.close();
    throw error;
  }
}
