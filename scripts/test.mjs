// npm test: the whole suite on the repo's Node 24, with Node 20 available for the end-to-end runs; then
// the provider suites once more against the built bundle (dist/providers/, SDK patches and all), since
// that, not the sources, is what users run (test/helpers/provider-under-test.ts).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { NODE24, setup, toolchainPath } from "./setup.mjs";

/** The suites that take their provider from providerUnderTest() (directly or via test/servers/). */
const BUNDLE_SUITES = [
  "test/providers/vault.test.ts",
  "test/providers/vault-lifecycle.test.ts",
  "test/providers/vault-write.test.ts",
  "test/providers/awssecrets-versions.test.ts",
  "test/providers/gcpsecrets-versions.test.ts",
  "test/providers/azurekeyvault-versions.test.ts",
  "test/providers/awssecrets.test.ts",
  "test/providers/awsssm.test.ts",
  "test/providers/gcpsecrets.test.ts",
  "test/providers/azurekeyvault.test.ts",
  "test/providers/azurekeyvault-msi-appservice.test.ts",
  "test/providers/azurekeyvault-msi-imds.test.ts",
];

setup();
const ensure = spawnSync(NODE24, ["scripts/ensure-node20.mjs"], { stdio: "inherit" });
if (ensure.status !== 0) process.exit(ensure.status ?? 1);
const passes = [vitest("vitest-report.json", process.argv.slice(2))];
// Only with the whole suite: `npm test -- <filter>` runs what the filter names.
if (process.argv.length === 2) {
  console.log("\nThe provider suites against the built bundle (SECRETWRAP_TEST_PROVIDERS_FROM=dist):");
  passes.push(vitest("vitest-bundle-report.json", BUNDLE_SUITES, { SECRETWRAP_TEST_PROVIDERS_FROM: "dist" }));
}
// A plain closing line that any CI can read.
// A failed global teardown (e.g. secrets left in /dev/shm) fails the run with every test passed.
const sum = (key) => passes.reduce((total, pass) => total + (pass.counts?.[key] ?? 0), 0);
const outside = passes.some((p) => p.status !== 0 && p.counts?.numFailedTests === 0)
  ? "; the run failed outside the tests (see above)"
  : "";
const unreported = passes.some((p) => p.counts === undefined) ? "; a pass wrote no report" : "";
console.log(
  `vitest: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped${outside}${unreported}`,
);
process.exit(passes.find((p) => p.status !== 0)?.status ?? 0);

/** One vitest run; its exit status and counts (undefined when it wrote no report). */
function vitest(reportName, args, env = {}) {
  const report = `.cache/${reportName}`;
  rmSync(report, { force: true });
  const result = spawnSync(
    NODE24,
    [
      "node_modules/vitest/vitest.mjs",
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...args,
    ],
    { stdio: "inherit", env: { ...process.env, ...env, PATH: toolchainPath() } },
  );
  let counts;
  try {
    counts = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    counts = undefined;
  }
  return { status: result.status ?? 1, counts };
}
