// connect(): settings from the block and the environment, node-vault with our transport, one login. A
// login that is one request is sent first, before node-vault and axios load (early-login.ts).
import type { ProviderContext, Session } from "../../src/provider-api.ts";
import { login } from "./login.ts";
import { PROVIDER, type Options } from "./options.ts";
import { VaultSession } from "./session.ts";
import { isSet } from "../kit/env-values.ts";
import { settingsFrom } from "./settings.ts";
import { createAgents, createTransport, type Agents } from "./transport.ts";
import { endpointOf, startEarlyLogin } from "./early-login.ts";
import { SecretIds } from "./unwrap.ts";

/** `options` passed the block's schema (options.ts) in the core. */
export function connect(options: Options, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  return connectVault(options, ctx, signal, { early: true });
}

/** `early: false` is today's path alone, for the tests that compare both paths' outcomes. */
export async function connectVault(
  options: Options,
  ctx: ProviderContext,
  signal: AbortSignal,
  how: { readonly early: boolean },
): Promise<Session> {
  const settings = settingsFrom(options, ctx.env);
  if (isSet(ctx.env["VAULT_SKIP_VERIFY"])) {
    ctx.log.warn(
      "VAULT_SKIP_VERIFY is ignored: secretwrap always verifies Vault's certificate (give its CA with VAULT_CACERT or caFile)",
      { provider: PROVIDER },
    );
  }
  // Owned by the transport from here; destroyed by transport.close() or, on a failed attempt, here.
  const agents = createAgents(settings);
  try {
    const early = how.early ? startEarlyLogin(settings, agents, ctx, signal) : undefined;
    // Loading the SDK blocks the event loop: the login's handshake is finished first, so the SDK
    // loads while Vault answers instead of holding the login back.
    await early?.sent;
    const [{ default: createClient }, { default: axios }] = await Promise.all([
      import("node-vault"),
      import("axios"),
    ]);
    const transport = createTransport(axios, settings, agents, early);
    const client = createClient({
      endpoint: endpointOf(settings),
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
    destroy(agents);
    throw error;
  }
}

function destroy(agents: Agents): void {
  agents.httpsAgent.destroy();
  agents.httpAgent.destroy();
}
