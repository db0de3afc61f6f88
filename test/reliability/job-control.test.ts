// Smaller things of issue 13 about the supervising process: under a terminal, `fg` gives the app one
// SIGCONT (the shell already sends it to the whole job), and `ps` names the process secretwrap, not
// Node's "MainThread".
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ptyDriver } from "../helpers/pty.ts";
import { CLI, PROBE, readProbe, runCli, startCli, waitForProbe } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-job-control-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SUPERVISING = NODES.map((n) => ({
  ...n,
  extra: n.hasExecve ? ["--supervise"] : [],
  label: n.hasExecve ? `${n.name} --supervise` : n.name,
}));

const hasPty = ((): boolean => {
  try {
    execFileSync("python3", ["-c", "import pty"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("R13-small: the supervising process under job control and in ps", () => {
  it.skipIf(!hasPty).each(SUPERVISING)(
    "R13-small: `fg` (SIGSTOP, then SIGCONT to the job's process group) gives the app exactly one SIGCONT ($label)",
    async (node) => {
      const dir = mkdtempSync(join(work, "fg-"));
      const out = join(dir, "probe.jsonl");
      const driver = join(dir, "fg.py");
      // pty.fork: the child leads a session on a terminal, so it and the app form one foreground job.
      writeFileSync(
        driver,
        ptyDriver(
          out,
          `
os.killpg(pid, signal.SIGSTOP)
time.sleep(0.2)
os.killpg(pid, signal.SIGCONT)
wait_for(lambda s: 'SIGCONT' in s)
`,
        ),
      );
      const result = await runCli([], {
        node,
        env: { PROBE_OUT: out },
        prefix: ["python3", driver, CLI, "run", ...node.extra, "--", "node", PROBE, "--wait"],
        timeoutMs: 30_000,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(readProbe(out).filter((r) => r.signal === "SIGCONT")).toHaveLength(1);
    },
  );

  it.each(SUPERVISING)(
    "R13-small: ps shows the supervising process as secretwrap, its argv unchanged ($label)",
    async (node) => {
      const out = join(mkdtempSync(join(work, "ps-")), "probe.jsonl");
      const running = startCli(["run", ...node.extra, "--", "node", PROBE, "--wait"], {
        node,
        env: { PROBE_OUT: out },
      });
      await waitForProbe(out, (records) => records.some((r) => r.probe === "ready"));
      const comm = readFileSync(`/proc/${running.pid}/comm`, "utf8").trim();
      const cmdline = readFileSync(`/proc/${running.pid}/cmdline`, "utf8").split("\0");
      running.child.kill("SIGTERM");
      await running.result;
      expect(comm).toBe("secretwrap");
      expect(cmdline[0]).toMatch(/node$/);
    },
  );
});
