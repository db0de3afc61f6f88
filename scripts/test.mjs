// npm test: the whole suite on the repo's Node 24, with Node 20 available for the end-to-end runs.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { NODE24, setup, toolchainPath } from "./setup.mjs";

setup();
const ensure = spawnSync(NODE24, ["scripts/ensure-node20.mjs"], { stdio: "inherit" });
if (ensure.status !== 0) process.exit(ensure.status ?? 1);
const report = ".cache/vitest-report.json";
const result = spawnSync(
  NODE24,
  [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit", env: { ...process.env, PATH: toolchainPath() } },
);
try {
  const { numPassedTests, numFailedTests, numPendingTests } = JSON.parse(readFileSync(report, "utf8"));
  // A plain closing line that any CI can read.
  // A failed global teardown (e.g. secrets left in /dev/shm) fails the run with every test passed.
  const outside =
    result.status !== 0 && numFailedTests === 0 ? "; the run failed outside the tests (see above)" : "";
  console.log(
    `vitest: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests} skipped${outside}`,
  );
} catch {
  console.log("vitest: no report was written");
}
process.exit(result.status ?? 1);
