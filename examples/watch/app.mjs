// The --watch example app (README "Long-running apps"): it reads its API credentials from the file
// API_CREDENTIALS_FILE names, and reads that file again on SIGHUP, which `run --watch` sends (with
// --on-change auto) when only file targets changed. It logs the version and the token's length, never
// the token. The path stays the same across rotations: secretwrap swaps what is behind it.
import { readFileSync } from "node:fs";

const path = process.env.API_CREDENTIALS_FILE;
if (path === undefined || path === "") {
  console.error("app: API_CREDENTIALS_FILE is not set; start me under secretwrap (see the README)");
  process.exit(2);
}

/** The credentials in the file now, or undefined (then the app keeps what it has). */
function load(why) {
  let credentials;
  try {
    credentials = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    // Never print error.message: JSON.parse quotes the text it could not parse, the secret included.
    const reason = error instanceof SyntaxError ? "not JSON" : (error.code ?? "unreadable");
    console.log(`app: ${why}: could not read the credentials (${reason}); keeping the ones it has`);
    return undefined;
  }
  const { version, token } = credentials ?? {};
  if (typeof token !== "string") {
    console.log(`app: ${why}: the credentials have no token; keeping the ones it has`);
    return undefined;
  }
  console.log(`app: ${why}: credentials version ${version}, token of ${token.length} characters`);
  return { version, token };
}

console.log(`app: started as pid ${process.pid}; API_CREDENTIALS_FILE=${path}`);
let credentials = load("loaded");
if (credentials === undefined) process.exit(1);

process.on("SIGHUP", () => {
  credentials = load("SIGHUP: reloaded") ?? credentials;
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    console.log(`app: ${signal}: stopping (last credentials version ${credentials.version})`);
    process.exit(0);
  });
}
// The app's work would go here; it only has to stay up.
setInterval(() => {}, 60_000);
