// A Python driver that runs a command as the foreground job of a new terminal (pty.fork: the child
// leads a session on it), waits for the probe to report "ready", then plays `steps` (Python lines
// with `pid`, `fd` and `wait_for(pred)` in scope) and finally stops the job with SIGTERM.
export function ptyDriver(probeOut: string, steps: string): string {
  return `import os, pty, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
def wait_for(pred, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred(open(${JSON.stringify(probeOut)}).read()): return
        except FileNotFoundError: pass
        time.sleep(0.05)
    sys.exit("timeout")
wait_for(lambda s: '"ready"' in s)
${steps.trim()}
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
`;
}
