// The last word on a stop signal that arrived just before exec (R3), read where libuv left it.
//
// libuv's C handler turns every caught signal into a 16-byte message ({ uv_signal_t*, int signum })
// on a pipe of the event loop's own, and Node runs the JS listener only when the loop reads that
// pipe. A signal caught after the last loop turn read it, and before the stop listeners are removed
// (which puts back SIG_DFL), is a message nobody will ever read: secretwrap would exec the app as if
// it had not come. Node offers no way to block signals around that stretch, so after the listeners
// are gone the pipe is read here instead: a stop signal found in it stops the run like any other.
//
// The pipe is recognised, not assumed. On Linux, each libuv loop in the process (Node runs a few)
// has one non-blocking pipe both of whose ends the process holds. To tell which one the listeners'
// messages go to, a signal this process listens to and ignores until the app exists (SIGWINCH) is
// sent to itself first: the pipe that holds its message is the one. The other loops' pipes are read
// too, to look; before an exec nothing is lost by that (they carry only their child watchers'
// SIGCHLD, and secretwrap has no child then). Anything else — no /proc, a 32-bit layout, the marker
// in no pipe or in two — and nothing is concluded: the check is then what it was without this file.
import { readFileSync, readSync, readdirSync, readlinkSync } from "node:fs";
import { constants, endianness } from "node:os";

const MESSAGE_BYTES = 16; // a pointer and an int, padded: 64-bit layouts only
const SIGNUM_OFFSET = 8;
const O_ACCMODE = 0o3;
const O_NONBLOCK = 0o4000;

interface PipeEnd {
  readonly fd: number;
  readonly flags: number;
}

/** The read ends of the non-blocking pipes whose both ends this process holds. */
function loopPipes(): number[] {
  if (!process.arch.endsWith("64")) return [];
  const byInode = new Map<string, PipeEnd[]>();
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  for (const name of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      if (!target.startsWith("pipe:")) continue;
      const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${name}`, "latin1"));
      if (flags?.[1] === undefined) continue;
      const ends = byInode.get(target) ?? [];
      ends.push({ fd: Number(name), flags: parseInt(flags[1], 8) });
      byInode.set(target, ends);
    } catch {
      // closed meanwhile (readdir's own fd among them)
    }
  }
  return [...byInode.values()].flatMap((ends) => {
    const read = ends.filter((e) => (e.flags & O_ACCMODE) === 0 && (e.flags & O_NONBLOCK) !== 0);
    const write = ends.filter((e) => (e.flags & O_ACCMODE) === 1);
    return read.length === 1 && write.length >= 1 ? read.map((e) => e.fd) : [];
  });
}

/**
 * The signals caught by the main loop's listeners and not yet dispatched (their numbers, in order),
 * read out of libuv's pipe; undefined when the pipe cannot be found for certain. `marker` must be a
 * signal this process listens to and may ignore: it is sent to this process to find the pipe.
 */
export function takeUndispatchedSignals(marker: NodeJS.Signals): number[] | undefined {
  const pipes = loopPipes();
  if (pipes.length === 0) return undefined;
  // Sent to itself, a signal is handled on this thread before kill() returns: its message is written.
  process.kill(process.pid, marker);
  const markerNumber = constants.signals[marker];
  const holding = pipes.map(drainSignalPipe).filter((signals) => signals.includes(markerNumber));
  return holding.length === 1 ? holding[0] : undefined;
}

/** Reads every message waiting in the signal pipe; returns their signal numbers, in order. */
function drainSignalPipe(fd: number): number[] {
  const signals: number[] = [];
  const buffer = Buffer.alloc(MESSAGE_BYTES * 64);
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, buffer, 0, buffer.length, null);
    } catch {
      return signals; // EAGAIN: empty (or not ours to read after all)
    }
    if (read <= 0) return signals;
    for (let at = 0; at + MESSAGE_BYTES <= read; at += MESSAGE_BYTES) {
      signals.push(
        endianness() === "LE"
          ? buffer.readInt32LE(at + SIGNUM_OFFSET)
          : buffer.readInt32BE(at + SIGNUM_OFFSET),
      );
    }
  }
}
