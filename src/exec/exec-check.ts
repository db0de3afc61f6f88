// R12: the kernel's own checks of an exec, made before secretwrap restores anything or execs/spawns.
// Node 24's process.execve aborts the whole process when the kernel refuses the file (SIGABRT, a core
// with the caller's filter back in place), Node 20's spawn throws or lets glibc run a foreign binary
// with /bin/sh: so what fs/exec.c, binfmt_elf.c and binfmt_script.c would refuse is refused here first
// with the shell's codes: 126 not executable (naming the reason), 127 a missing interpreter.
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from "node:fs";
import { resolve } from "node:path";
import { SecretwrapError } from "../errors.ts";
import { firstUnsearchable } from "../output/reachable.ts";

/** Who the app runs as: --user's ids (no supplementary groups: they are dropped), or undefined for this process. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** fs/exec.c: a script may name a script as its interpreter; 5 of them, then the kernel says ELOOP. */
export const MAX_SCRIPT_DEPTH = 5;
const BINPRM_BUF_SIZE = 256;

// e_machine and EI_CLASS of the ELF binaries this Node's machine runs natively (elf-em.h).
const NATIVE: Readonly<Record<string, readonly (readonly [machine: number, elfClass: number])[]>> = {
  // 32-bit i386 binaries run where the kernel has IA32 emulation (every distribution kernel).
  x64: [
    [62, 2],
    [3, 1],
  ],
  arm64: [
    [183, 2],
    [40, 1],
  ],
  ia32: [[3, 1]],
  arm: [[40, 1]],
  riscv64: [[243, 2]],
  ppc64: [[21, 2]],
  s390x: [[22, 2]],
  loong64: [[258, 2]],
};
const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: "i386",
  8: "mips",
  20: "ppc",
  21: "ppc64",
  22: "s390x",
  40: "arm",
  62: "x86-64",
  183: "aarch64",
  243: "riscv",
  258: "loongarch",
};

const notExecutable = (message: string, hint?: string): SecretwrapError =>
  new SecretwrapError("COMMAND_NOT_EXECUTABLE", message, hint === undefined ? {} : { hint });

/** Throws 126/127 when the kernel would refuse to exec `path` for `runAs`; `command` names it. */
export function checkExec(path: string, command: string, runAs?: RunAs): void {
  const files: string[] = [];
  checkFile(resolve(path), `cannot run ${command}`, runAs, 0, files, undefined);
  const writer = openForWriting(files);
  if (writer !== undefined) {
    throw notExecutable(
      `cannot run ${command}: ${writer.file} is open for writing by process ${writer.pid} (the kernel refuses to exec it: ETXTBSY)`,
      "wait until the file is completely written, or copy it first",
    );
  }
}

function checkFile(
  path: string,
  what: string,
  runAs: RunAs | undefined,
  depth: number,
  files: string[],
  interpreterOf: string | undefined,
): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (interpreterOf !== undefined && (code === "ENOENT" || code === "ENOTDIR")) {
      throw new SecretwrapError("COMMAND_NOT_FOUND", `${what}: ${interpreterOf} ${path} was not found`);
    }
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new SecretwrapError("COMMAND_NOT_FOUND", `${what}: ${path} was not found`);
    }
    if (code === "ELOOP") throw notExecutable(`${what}: ${path} is a symlink loop`);
    throw notExecutable(`${what}: ${path} cannot be reached (${code ?? "error"})`);
  }
  const named = interpreterOf === undefined ? path : `${interpreterOf} ${path}`;
  if (stat.isDirectory()) throw notExecutable(`${what}: ${named} is a directory`);
  if (!stat.isFile()) throw notExecutable(`${what}: ${named} is not a regular file`);
  checkPermission(path, stat, what, named, runAs);
  checkMount(path, what, named);
  files.push(path);
  const head = readHead(path, stat);
  if (head === undefined) return; // execute-only for secretwrap too: nothing more to know
  if (head.subarray(0, 4).equals(ELF_MAGIC)) {
    checkElf(path, head, what, named, runAs, files);
    return;
  }
  if (head.subarray(0, 2).toString("latin1") === "#!") {
    if (depth + 1 > MAX_SCRIPT_DEPTH) {
      throw notExecutable(
        `${what}: its chain of #! interpreters is deeper than the kernel allows (${MAX_SCRIPT_DEPTH} scripts)`,
        "point the #! line at the real interpreter",
      );
    }
    const line = head.subarray(2).toString("latin1").split("\n")[0] ?? "";
    const interpreter = line.replace(/^[ \t]+/, "").split(/[ \t\0]/)[0] ?? "";
    if (interpreter === "") throw notExecutable(`${what}: ${named} has an empty #! line`);
    checkFile(resolve(interpreter), what, runAs, depth + 1, files, "its interpreter");
    return;
  }
  if (binfmtMiscHandles(path, head)) return;
  throw notExecutable(
    `${what}: ${named} is neither a script with #! nor a binary for this machine (${process.arch})`,
    interpreterOf === undefined
      ? "add a #! line, or run it through its interpreter (e.g. sh script)"
      : undefined,
  );
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

function checkElf(
  path: string,
  head: Buffer,
  what: string,
  named: string,
  runAs: RunAs | undefined,
  files: string[],
): void {
  const elfClass = head[4];
  const littleEndian = head[5] === 1;
  const u16 = (at: number): number => (littleEndian ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const machine = head.length >= 20 ? u16(18) : -1;
  const type = head.length >= 18 ? u16(16) : -1;
  const native = NATIVE[process.arch] ?? [];
  const nativeLE = Buffer.from(new Uint16Array([1]).buffer)[0] === 1;
  const fits =
    littleEndian === nativeLE &&
    native.some(([m, c]) => m === machine && c === elfClass) &&
    (type === 2 || type === 3);
  if (!fits) {
    if (binfmtMiscHandles(path, head)) return;
    const kind = type === 2 || type === 3 ? "a binary" : "an ELF file that is not an executable";
    throw notExecutable(
      `${what}: ${named} is ${kind} for ${MACHINE_NAMES[machine] ?? `machine ${machine}`} (${elfClass === 1 ? "32" : "64"}-bit), not for this machine (${process.arch})`,
      "use the image or build for this machine's architecture",
    );
  }
  const loader = elfInterpreter(path, head, elfClass === 2, littleEndian);
  if (loader === undefined) return;
  checkFile(resolve(loader), what, runAs, MAX_SCRIPT_DEPTH, files, "its dynamic loader");
}

/** PT_INTERP of an ELF file: the dynamic loader the kernel opens too (ENOENT when it is missing). */
function elfInterpreter(path: string, head: Buffer, is64: boolean, le: boolean): string | undefined {
  const at = (buf: Buffer, off: number, size: 2 | 4 | 8): number =>
    size === 2
      ? le
        ? buf.readUInt16LE(off)
        : buf.readUInt16BE(off)
      : size === 4
        ? le
          ? buf.readUInt32LE(off)
          : buf.readUInt32BE(off)
        : Number(le ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off));
  if (head.length < (is64 ? 64 : 52)) return undefined;
  const phoff = is64 ? at(head, 32, 8) : at(head, 28, 4);
  const phentsize = at(head, is64 ? 54 : 42, 2);
  const phnum = Math.min(at(head, is64 ? 56 : 44, 2), 512);
  const table = readAt(path, phoff, phentsize * phnum);
  if (table === undefined) return undefined;
  for (let i = 0; i + 1 <= phnum && (i + 1) * phentsize <= table.length; i++) {
    const entry = table.subarray(i * phentsize);
    if (at(entry, 0, 4) !== 3) continue; // PT_INTERP
    const offset = is64 ? at(entry, 8, 8) : at(entry, 4, 4);
    const size = is64 ? at(entry, 32, 8) : at(entry, 16, 4);
    const bytes = readAt(path, offset, Math.min(size, 4096));
    return bytes?.toString("latin1").split("\0")[0];
  }
  return undefined;
}

function mayUse(stat: Stats, runAs: RunAs, bit: number): boolean {
  if (runAs.uid === 0) return stat.isDirectory() || (stat.mode & 0o111) !== 0;
  if (stat.uid === runAs.uid) return (stat.mode & (bit << 6)) !== 0;
  if (stat.gid === runAs.gid) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}

function checkPermission(
  path: string,
  stat: Stats,
  what: string,
  named: string,
  runAs: RunAs | undefined,
): void {
  if (runAs === undefined) {
    try {
      // access(2) with this process's ids checks the file's x bits and every directory's search bit.
      accessSync(path, constants.X_OK);
    } catch {
      throw notExecutable(
        `${what}: ${named} is not executable (no execute permission on it or search permission on a directory of its path)`,
      );
    }
    return;
  }
  const who = `user ${runAs.uid} (group ${runAs.gid})`;
  // The kernel's own walk to the file, symlinked directories and a symlinked file followed.
  const blocked = firstUnsearchable(path, runAs);
  if (blocked !== undefined) {
    throw notExecutable(
      `${what}: ${who} may not search the directory ${blocked.path} on the way to ${named}`,
    );
  }
  if (!mayUse(stat, runAs, 1)) throw notExecutable(`${what}: ${named} is not executable by ${who}`);
}

/** A noexec mount refuses every exec from it (EACCES). */
function checkMount(path: string, what: string, named: string): void {
  let info: string;
  let real: string;
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
    real = realpathSync(path);
  } catch {
    return;
  }
  let best: { point: string; noexec: boolean } | undefined;
  for (const line of info.split("\n")) {
    const fields = line.split(" ");
    const point = (fields[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    if (point === "" || !(real === point || real.startsWith(point === "/" ? "/" : `${point}/`))) continue;
    if (best === undefined || point.length >= best.point.length) {
      best = { point, noexec: (fields[5] ?? "").split(",").includes("noexec") };
    }
  }
  if (best?.noexec === true) {
    throw notExecutable(`${what}: ${named} is on ${best.point}, mounted noexec`);
  }
}

function readAt(path: string, position: number, length: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, 1 << 20)));
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, position));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readHead(path: string, stat: Stats): Buffer | undefined {
  return stat.isFile() ? readAt(path, 0, BINPRM_BUF_SIZE) : undefined;
}

/** binfmt_misc (e.g. qemu-user for foreign binaries): a registered, enabled magic that matches runs. */
function binfmtMiscHandles(path: string, head: Buffer): boolean {
  const root = "/proc/sys/fs/binfmt_misc";
  let names: string[];
  try {
    if (readFileSync(`${root}/status`, "latin1").trim() !== "enabled") return false;
    names = readdirSync(root).filter((n) => n !== "status" && n !== "register");
  } catch {
    return false;
  }
  return names.some((name) => {
    let text: string;
    try {
      text = readFileSync(`${root}/${name}`, "latin1");
    } catch {
      return false;
    }
    if (!text.startsWith("enabled")) return false;
    const field = (key: string): string | undefined => new RegExp(`^${key} (.*)$`, "m").exec(text)?.[1];
    const extension = field("extension");
    if (extension !== undefined) return path.endsWith(extension);
    const magic = Buffer.from(field("magic") ?? "", "hex");
    const mask = Buffer.from(field("mask") ?? "ff".repeat(magic.length), "hex");
    const offset = Number(field("offset") ?? "0");
    if (magic.length === 0 || offset + magic.length > head.length) return false;
    for (let i = 0; i < magic.length; i++) {
      const m = mask[i] ?? 0xff;
      if (((head[offset + i] ?? 0) & m) !== ((magic[i] ?? 0) & m)) return false;
    }
    return true;
  });
}

/**
 * ETXTBSY: the kernel refuses to exec a file open for writing. Node has no lease or fcntl, so the
 * open files of every process secretwrap can see are scanned (/proc/<pid>/fd, ~5 ms for 400 fds);
 * a writer in a process it cannot see (another user, another PID namespace) stays a residual.
 */
function openForWriting(files: readonly string[]): { file: string; pid: string } | undefined {
  const wanted = new Map<string, string>();
  for (const file of files) {
    try {
      const real = realpathSync(file);
      const stat = statSync(real);
      wanted.set(real, `${stat.dev}:${stat.ino}`);
    } catch {
      // checked above
    }
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return undefined;
  }
  const deadline = Date.now() + 200;
  for (const pid of pids) {
    if (Date.now() > deadline) return undefined;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const id = wanted.get(target);
        if (id === undefined) continue;
        const stat = statSync(`/proc/${pid}/fd/${fd}`);
        if (`${stat.dev}:${stat.ino}` !== id) continue;
        const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "latin1"))?.[1];
        if (flags !== undefined && (parseInt(flags, 8) & 3) !== constants.O_RDONLY)
          return { file: target, pid };
      } catch {
        // gone meanwhile
      }
    }
  }
  return undefined;
}
