// Scenario 1's inputs, reused as "secretwrap's own start-up" by the other scenarios: 20 local secret
// files, declared as 10 env outputs and 10 `_FILE` outputs, and the same 20 values as a plain .env for
// the peers (which read dotenv files and fetch nothing).
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratch } from "./workdir.ts";

export interface FileFixture {
  readonly dir: string;
  /** FILE_SECRET_0..9 (env) and FILE_SECRET_10..19_FILE (files), as references. */
  readonly declared: Readonly<Record<string, string>>;
  /** ./.env with 20 plain values, for dotenvx and env-cmd. */
  readonly dotenv: string;
}

export function fileFixture(): FileFixture {
  const dir = scratch("files");
  const declared: Record<string, string> = {};
  const dotenv: string[] = [];
  for (let i = 0; i < 20; i++) {
    const value = randomBytes(24).toString("base64url");
    writeFileSync(join(dir, `secret${i}`), value, { mode: 0o600 });
    declared[i < 10 ? `FILE_SECRET_${i}` : `FILE_SECRET_${i}_FILE`] = `ref+file://./secret${i}`;
    dotenv.push(`FILE_SECRET_${i}=${value}`);
  }
  writeFileSync(join(dir, ".env"), dotenv.join("\n") + "\n", { mode: 0o600 });
  return { dir, declared, dotenv: join(dir, ".env") };
}
