// connect(): transport and credentials from the block and the environment, the SDK loaded, the metadata
// server looked for when it is the source and no host was given, and the first access token taken, once.
// With the metadata server named, that token is asked for before the SDK loads (early-token.ts).
import { type ProviderContext, SecretwrapError, type Session, commonJs } from "../../src/provider-api.ts";
import { connectWithProcessEnv } from "../kit/process-env.ts";
import { credentialSource, metadataVariables, readCredentials } from "./credentials.ts";
import { mapFailure } from "./errors.ts";
import { NAME, type GcpOptions } from "./options.ts";
import { GcpSession, type Sdk } from "./session.ts";
import { GLOBAL_HOST } from "./target.ts";
import { intercept, transportFor, type InterceptableClient } from "./transport.ts";
import { startEarlyToken, type EarlyToken } from "./early-token.ts";

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";

type Gax = typeof import("google-gax");

/** `options` passed the block's schema (options.ts) in the core. */
export function connect(options: GcpOptions, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  return connectGcp(options, ctx, signal, { early: true });
}

/** `early: false` is today's path alone, for the tests that compare both paths' outcomes. */
export function connectGcp(
  options: GcpOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  how: { readonly early: boolean },
): Promise<Session> {
  return connectWithProcessEnv(metadataVariables(ctx.env), (restoreEnv) =>
    open(options, ctx, signal, restoreEnv, how.early),
  );
}

async function open(
  options: GcpOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  restoreEnv: () => void,
  early: boolean,
): Promise<Session> {
  const transport = transportFor(options);
  const source = credentialSource(options, ctx.env);
  const credentials =
    source.kind === "file" ? readCredentials(source.path, source.from, options, ctx) : undefined;
  const earlyToken = early ? startEarlyToken(source, ctx.env, [SCOPE], transport, ctx, signal) : undefined;
  // Loading the SDK blocks the event loop: the request is on the wire first.
  await earlyToken?.sent;
  const [sdk, gax]: [Sdk, Gax] = await Promise.all([
    import("@google-cloud/secret-manager/build/src/v1/index.js").then(commonJs), // see Sdk
    import("google-gax").then(commonJs),
  ]);
  const gal = gax.googleAuthLibrary;
  const what = source.kind === "file" ? `login with ${source.from}` : "login with the metadata server";
  if (source.kind === "metadata" && !source.explicitHost) {
    // Off GCP the metadata host does not exist: say so now instead of failing every secret.
    gal.gcpMetadata.resetIsAvailableCache();
    if (!(await gal.gcpMetadata.isAvailable())) {
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: no Google credentials found`, {
        subject: { provider: NAME },
        hint: "set GOOGLE_APPLICATION_CREDENTIALS to a key or workload identity federation file, run `gcloud auth application-default login`, or run on GCP with a service account attached",
      });
    }
  }
  const auth =
    credentials === undefined
      ? new gal.GoogleAuth({ authClient: new gal.Compute({ scopes: [SCOPE] }) })
      : new gal.GoogleAuth({ credentials, scopes: [SCOPE] });
  const session = new GcpSession(sdk, auth, transport, ctx, restoreEnv);
  // The generated client marks the auth as a GAPIC one (service account keys then sign their own JWTs,
  // as in production); only then is the auth client made, and its first token taken here, once.
  session.client(undefined);
  try {
    const client = await transport.attemptSignal.run(signal, () => auth.getClient());
    intercept(client as unknown as InterceptableClient, transport);
    const earlyAnswer = await earlyToken?.answer;
    // An attempt that ended (timed out) while the early answer was awaited sends nothing more.
    signal.throwIfAborted();
    // A failed answer is the login's: read below by mapFailure as the SDK's own error would be.
    if (earlyAnswer instanceof Error) throw earlyAnswer;
    if (earlyAnswer !== undefined) startWith(client, earlyAnswer);
    // The auth client renews its token itself (a --watch run outlives the first): each one it gets is
    // masked, not only the first.
    client.on("tokens", (tokens: { access_token?: string | null }) => {
      if (typeof tokens.access_token === "string" && tokens.access_token !== "")
        ctx.addSecret(tokens.access_token);
    });
    const headers = await transport.attemptSignal.run(signal, () =>
      client.getRequestHeaders(`https://${GLOBAL_HOST}/`),
    );
    const authorization = headers.get("authorization");
    if (authorization === null)
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: ${what}: no access token was issued`, {
        subject: { provider: NAME },
      });
    ctx.addSecret(authorization.replace(/^Bearer\s+/i, ""));
  } catch (error) {
    await session.close();
    if (error instanceof SecretwrapError) throw error;
    throw mapFailure(error, `${NAME}: ${what}`, "login");
  }
  return session;
}

/** What google-auth-library's Compute client (an OAuth2Client) offers for a token it did not fetch. */
interface TokenHolder {
  readonly eagerRefreshThresholdMillis?: number;
  setCredentials(credentials: { access_token: string; token_type: string; expiry_date: number }): void;
}

/**
 * The client starts with the early token, as if it had fetched it; one it would renew at once (too
 * close to its expiry) is not given, so the client asks for its own as it does without the early one.
 */
function startWith(client: TokenHolder, token: EarlyToken): void {
  const threshold = client.eagerRefreshThresholdMillis ?? 5 * 60_000;
  if (token.expiryDate - Date.now() <= threshold) return;
  client.setCredentials({
    access_token: token.accessToken,
    token_type: token.tokenType,
    expiry_date: token.expiryDate,
  });
}
