// Variables meant for the app that would otherwise change secretwrap itself: code preloads and the
// inspector (NODE_OPTIONS), TLS verification, proxies for credential-bearing requests, and SDK debug
// logs that print request details. They are taken out of secretwrap's own process before any provider
// loads, and handed back to the app unchanged. bin/secretwrap moves the ones Node reads at startup
// (before any JavaScript runs) into SECRETWRAP_APP_<NAME>.
export const APP_ONLY_VARIABLES = [
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "NODE_USE_ENV_PROXY",
  "NODE_TLS_REJECT_UNAUTHORIZED",
  "NODE_DEBUG",
  "NODE_DEBUG_NATIVE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "no_proxy",
  "grpc_proxy",
  "GRPC_TRACE",
  "GRPC_VERBOSITY",
  "AZURE_LOG_LEVEL",
  "DEBUG",
] as const;

export const LAUNCHER_PREFIX = "SECRETWRAP_APP_";

/** Removes app-only variables from `env` (secretwrap's own process.env) and returns them for the app. */
export function takeAppOnlyVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const taken: Record<string, string> = {};
  for (const name of APP_ONLY_VARIABLES) {
    const fromLauncher = env[LAUNCHER_PREFIX + name];
    const direct = env[name];
    if (fromLauncher !== undefined) taken[name] = fromLauncher;
    else if (direct !== undefined) taken[name] = direct;
    delete env[name];
    delete env[LAUNCHER_PREFIX + name];
  }
  return taken;
}
