// The example app: reports which secrets it received and how, never a value.
import { statSync } from "node:fs";

const names = ["API_KEY", "DB_USER", "DB_PASSWORD_FILE", "TLS_KEY", "FEATURE_TOKEN"];
console.log(`app: started as pid ${process.pid}`);
for (const name of names) {
  const value = process.env[name];
  if (value === undefined) {
    console.log(`app: ${name} is not set`);
  } else if (value.startsWith("/")) {
    const stat = statSync(value);
    console.log(
      `app: ${name} is a file: ${value} (${stat.size} bytes, mode ${(stat.mode & 0o777).toString(8)})`,
    );
  } else {
    console.log(`app: ${name} is set in the environment (${value.length} characters)`);
  }
}
console.log(
  `app: GREETING passed through unchanged: ${process.env.GREETING === "hello from the environment"}`,
);
