// Variables meant for the app that would otherwise change secretwrap itself: every knob of Node's own
// (src/launch/node-knobs.ts: code preloads and the inspector, TLS trust and verification, debug output)
// and the SDKs' proxies and debug logs, which print request details. They are taken out of
// secretwrap's own process before any provider loads, and handed back to the app unchanged. The
// knobs Node acts on at start-up never reach secretwrap's process at all: its first code
// (src/launch/relaunch.ts) moves them into SECRETWRAP_APP_<NAME> and starts Node again.
import { LAUNCH_KNOBS, LAUNCHER_PREFIX, RUNTIME_KNOBS } from "./launch/node-knobs.ts";
import { allDescriptors } from "./provider.ts";

export { LAUNCHER_PREFIX };

/**
 * Read by the SDKs (not by Node) when they are used: taking them out of process.env is enough. The
 * proxies and DEBUG are read by HTTP libraries any SDK may use; each provider names its SDK's own.
 */
const SDK_KNOBS: readonly string[] = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "no_proxy",
  ...allDescriptors().flatMap((d) => d.appOnlyVariables),
  "DEBUG",
];

export const APP_ONLY_VARIABLES: readonly string[] = [...LAUNCH_KNOBS, ...RUNTIME_KNOBS, ...SDK_KNOBS];

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
