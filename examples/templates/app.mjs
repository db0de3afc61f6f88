// The templates example app (README "Config files with secrets"): it reads its config file (the path
// in APP_CONFIG_FILE) and its database URL (DATABASE_URL_FILE), both rendered by secretwrap from
// templates, and reads them again on SIGHUP, which `run --watch` sends when a secret they use changes.
// It logs what it checked and the password's length, never the password.
import { readFileSync } from "node:fs";

const configPath = process.env.APP_CONFIG_FILE;
const urlPath = process.env.DATABASE_URL_FILE;
if (!configPath || !urlPath) {
  console.error(
    "app: APP_CONFIG_FILE and DATABASE_URL_FILE must be set; start me under secretwrap (see the README)",
  );
  process.exit(2);
}

function load(why) {
  let config;
  let url;
  try {
    config = JSON.parse(readFileSync(configPath, "utf8"));
    url = new URL(readFileSync(urlPath, "utf8"));
  } catch (error) {
    // Never print error.message: a parser quotes the text it could not parse, the secret included.
    console.log(`app: ${why}: could not read the config (${error.code ?? error.name})`);
    return false;
  }
  const { user, password } = config.database;
  const same = decodeURIComponent(url.password) === password && decodeURIComponent(url.username) === user;
  console.log(
    `app: ${why}: user ${user}, password of ${password.length} characters; the URL's password ${same ? "matches" : "DIFFERS"}`,
  );
  return same;
}

console.log(`app: started; APP_CONFIG_FILE=${configPath}`);
if (!load("loaded")) process.exit(1);
process.on("SIGHUP", () => load("SIGHUP: reloaded"));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
// Stays up only under --watch (EXAMPLE_STAY=1); otherwise it has shown what it read.
if (process.env.EXAMPLE_STAY === "1") setInterval(() => {}, 60_000);
