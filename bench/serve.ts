// For profiling by hand: start one provider's fake exactly as scenarios 2 and 3 do, print a shell line
// that runs secretwrap against it, and serve until interrupted. Usage (Node 24):
//   node_modules/node/bin/node bench/serve.ts vault|awssecrets|gcpsecrets|azurekeyvault [latencyMs]
import { createTestPki } from "../test/servers/tls.ts";
import { CLI, baseEnv } from "./config.ts";
import { awsTarget } from "./providers/aws.ts";
import { azureTarget } from "./providers/azure.ts";
import { gcpTarget } from "./providers/gcp.ts";
import type { NetworkTarget } from "./providers/target.ts";
import { vaultTarget } from "./providers/vault.ts";
import { removeWorkdirs, scratch } from "./workdir.ts";

const [name = "", latency = "0"] = process.argv.slice(2);
const pki = createTestPki();
const makers: Record<string, (ms: number, cwd: string) => Promise<NetworkTarget>> = {
  vault: (ms, cwd) => vaultTarget(pki, ms, cwd),
  awssecrets: awsTarget,
  gcpsecrets: gcpTarget,
  azurekeyvault: (ms, cwd) => azureTarget(pki, ms, cwd),
};
const make = makers[name];
if (make === undefined) throw new Error(`usage: bench/serve.ts ${Object.keys(makers).join("|")} [latencyMs]`);
const target = await make(Number(latency), scratch(name));
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
const env = Object.entries({ ...baseEnv(), ...target.env }).map(([k, v]) => `${k}=${quote(v)}`);
console.log(
  `cd ${quote(target.cwd)} && env -i ${env.join(" ")} ${CLI} run ${target.args.map(quote).join(" ")} --secrets-dir "/dev/shm/serve-$$-$RANDOM" -- /bin/true`,
);
process.on("SIGINT", () => {
  void target.close().then(() => {
    removeWorkdirs();
    process.exit(0);
  });
});
