// R12 (and R7) end to end: a command the kernel would refuse to exec is refused by secretwrap first,
// with 126 (or 127 for a missing interpreter) naming the reason: never Node 24's abort at
// process.execve (134, and a core holding the secrets once the caller's core filter is back), never
// Node 20's spawn error (70) or glibc's /bin/sh fallback for a foreign binary (2).
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { START_PATHS } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-exec-check-"));
chmodSync(work, 0o755); // --user 65534 must be able to reach the files that are not meant to be hidden
afterAll(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(join(work, "secret"), "s3cr3t-exec-check\n");
const RAN = join(work, "ran");

function executable(name: string, content: string | Buffer, mode = 0o755): string {
  const path = join(work, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

// An ELF of this machine with e_machine changed to another architecture's (aarch64, or x86-64 on arm64).
const trueElf = readFileSync("/bin/true");
const foreign = Buffer.from(trueElf);
foreign.writeUInt16LE(process.arch === "arm64" ? 62 : 183, 18);
executable("foreign", foreign);
executable("text", `touch ${RAN}\n`);
executable("missing", "#!/no/such/interpreter\n");
let previous = "/bin/true";
for (let i = 1; i <= 6; i++) previous = executable(`chain${i}`, `#!${previous}\n`);
const t744 = executable("t744", trueElf, 0o744);
mkdirSync(join(work, "private"), { mode: 0o700 });
const hidden = executable("private/true", trueElf);
mkdirSync(join(work, "dir"));
const busy = executable("busy", trueElf);

const root = process.geteuid?.() === 0;
const cases: readonly {
  what: string;
  command: string;
  user?: string;
  code: number;
  says: RegExp;
}[] = [
  {
    what: "a binary for another architecture",
    command: "./foreign",
    code: 126,
    says: /foreign is a binary for \S+ \(64-bit\), not for this machine/,
  },
  {
    what: "a text file without #!",
    command: "./text",
    code: 126,
    says: /text is neither a script with #! nor a binary/,
  },
  {
    what: "a #! to a missing interpreter",
    command: "./missing",
    code: 127,
    says: /its interpreter \/no\/such\/interpreter was not found/,
  },
  {
    what: "a #! chain deeper than the kernel's",
    command: "./chain6",
    code: 126,
    says: /chain of #! interpreters is deeper than the kernel allows/,
  },
  {
    what: "a 0744 file for --user 65534",
    command: t744,
    user: "65534",
    code: 126,
    says: /t744 is not executable by user 65534/,
  },
  {
    what: "a file in a 0700 root dir for --user 65534",
    command: hidden,
    user: "65534",
    code: 126,
    says: /user 65534 \(group 65534\) may not search the directory \S+private/,
  },
  { what: "a directory", command: "./dir", code: 126, says: /dir is a directory/ },
  {
    what: "a file open for writing",
    command: "./busy",
    code: 126,
    says: /busy is open for writing by process \d+ .*ETXTBSY/,
  },
];

describe.each(START_PATHS)("R12 under $label", ({ node, extra }) => {
  it.each(cases)("R12: $what exits $code naming the reason, the app never runs, no core", async (c) => {
    if (c.user !== undefined && !root) return; // --user needs root
    const writer = c.command === "./busy" ? openSync(busy, "a") : undefined;
    try {
      const r = await runCli(
        ["run", ...(c.user === undefined ? [] : ["--user", c.user]), ...extra, "--", c.command],
        {
          node,
          cwd: work,
          env: { A: `ref+file://${join(work, "secret")}` },
          // A core (core_pattern "core" is relative to the crashing process's cwd) would appear in work.
          prefix: ["sh", "-c", 'ulimit -c unlimited 2>/dev/null; exec "$0" "$@"'],
        },
      );
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(c.code);
      expect(r.stderr).toMatch(c.says);
      expect(r.stderr).toContain("the command was not started");
      expect(r.stdout).toBe("");
      expect(readdirSync(work).filter((n) => n === "ran" || n.startsWith("core"))).toEqual([]);
    } finally {
      if (writer !== undefined) closeSync(writer);
    }
  });

  it("R12: a #! chain exactly as deep as the kernel allows (5 scripts) still starts", async () => {
    const r = await runCli(["run", ...extra, "--", "./chain5"], {
      node,
      cwd: work,
      env: { A: `ref+file://${join(work, "secret")}` },
    });
    expect(r.code, r.stderr).toBe(0);
  });
});
