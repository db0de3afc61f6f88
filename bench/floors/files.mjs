// Scenario 1's floor: what any Node program must do for the same job, with none of secretwrap (no CLI
// parsing, no plan, no retries, no audit log, no checks beyond the flags that make a file write safe).
// It reads the 20 `ref+file://` references of its environment, writes the 10 `_FILE` ones to a new
// 0700 directory (O_EXCL|O_NOFOLLOW, 0400, fsync), and execve's the command. Plain JavaScript with
// builtins only, so nothing but Node's own start is paid before it runs.
//   node --no-warnings files.mjs SECRETS_DIR COMMAND [ARG…]
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";

const [dir, file, ...args] = process.argv.slice(2);
if (dir === undefined || file === undefined) throw new Error("usage: files.mjs SECRETS_DIR COMMAND [ARG…]");
mkdirSync(dir, { mode: 0o700 });

const PREFIX = "ref+file://";
const env = { ...process.env };
for (const [name, ref] of Object.entries(process.env)) {
  if (ref === undefined || !ref.startsWith(PREFIX)) continue;
  const bytes = readFileSync(ref.slice(PREFIX.length));
  if (!name.endsWith("_FILE")) {
    env[name] = bytes.toString();
    continue;
  }
  const path = `${dir}/${name.slice(0, -"_FILE".length)}`;
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o400);
  writeSync(fd, bytes);
  fsyncSync(fd);
  closeSync(fd);
  env[name] = path;
}
process.execve(file, [file, ...args], env);
