// npm run example: secretwrap's main job on the local file provider. The example app prints which
// secrets it received and how (env or file), never their values.
import { spawnSync } from "node:child_process";
import { setup, toolchainPath } from "./setup.mjs";

setup();
const result = spawnSync(
  "bin/secretwrap",
  ["run", "--config", "examples/quickstart/secretwrap.yaml", "--", "node", "examples/quickstart/app.mjs"],
  {
    stdio: "inherit",
    env: { ...process.env, PATH: toolchainPath(), GREETING: "hello from the environment" },
  },
);
process.exit(result.status ?? 1);
