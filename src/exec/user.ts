// --user USER[:GROUP]: the app (and its secret files) belong to this user; privileges are dropped just
// before exec.
//
// Names are looked up in /etc/passwd and /etc/group the way `docker run --user` does it, by reading
// the files (Node has no getpwnam, and images rarely use NSS modules). Parsing is pure; only
// readAccountFiles touches the disk. A word of digits is always an id, never a name.
import { readFileSync } from "node:fs";
import { SecretwrapError } from "../errors.ts";
import type { Owner } from "../output/files.ts";
import { quotedOptionValue } from "../printable.ts";

export interface Account extends Owner {
  /** The user's home from /etc/passwd, or "/" when the uid has no entry (what docker and su use). */
  readonly home: string;
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
}

/** The text of /etc/passwd and /etc/group; undefined when the file does not exist (scratch images). */
export interface AccountFiles {
  readonly passwd?: string;
  readonly group?: string;
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel

/** A word of digits is an id (in range or not), never a name. */
const ID = /^[0-9]+$/;

function id(text: string | undefined): number | undefined {
  if (text === undefined || !ID.test(text) || text.length > 10) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/** Lines `name:password:uid:gid:gecos:home:shell`; malformed lines, comments and NIS `+` lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    const [name = "", , uidText, gidText, , home = ""] = fields;
    const uid = id(uidText);
    const gid = id(gidText);
    if (fields.length < 7 || name === "" || /^[#+-]/.test(name) || uid === undefined || gid === undefined)
      continue;
    entries.push({ name, uid, gid, home: home === "" ? "/" : home });
  }
  return entries;
}

/** Lines `name:password:gid:members`, skipped as in parsePasswd. */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    const [name = "", , gidText] = fields;
    const gid = id(gidText);
    if (fields.length < 4 || name === "" || /^[#+-]/.test(name) || gid === undefined) continue;
    entries.push({ name, gid });
  }
  return entries;
}

const usage = (message: string, hint?: string): SecretwrapError =>
  new SecretwrapError("USAGE", `--user: ${message}`, hint === undefined ? {} : { hint });

/**
 * USER[:GROUP] → uid, gid and home. USER is a uid or a name in /etc/passwd; GROUP a gid or a name in
 * /etc/group. Without GROUP: the user's primary group from /etc/passwd, or gid = uid when the uid has
 * no entry (never root's group 0 by accident).
 */
export function resolveUser(spec: string, files: AccountFiles): Account {
  const parts = spec.split(":");
  const [userText = "", groupText] = parts;
  if (parts.length > 2 || userText === "" || groupText === "") {
    throw usage(`expected USER[:GROUP], names or numeric ids (got ${quotedOptionValue(spec)})`);
  }
  const users = files.passwd === undefined ? [] : parsePasswd(files.passwd);
  let entry: PasswdEntry | undefined;
  let uid = id(userText);
  if (uid === undefined && ID.test(userText))
    throw usage(`id out of range (got ${quotedOptionValue(userText)})`);
  if (uid === undefined) {
    if (files.passwd === undefined) {
      throw usage(
        `no /etc/passwd to look up the user ${quotedOptionValue(userText)}`,
        "give a numeric UID[:GID]",
      );
    }
    entry = users.find((u) => u.name === userText);
    if (entry === undefined) {
      throw usage(
        `no user ${quotedOptionValue(userText)} in /etc/passwd`,
        "give a numeric UID[:GID], or add the user",
      );
    }
    uid = entry.uid;
  } else {
    entry = users.find((u) => u.uid === uid);
  }
  return { uid, gid: resolveGroup(groupText, entry?.gid ?? uid, files), home: entry?.home ?? "/" };
}

function resolveGroup(text: string | undefined, fallback: number, files: AccountFiles): number {
  if (text === undefined) return fallback;
  const gid = id(text);
  if (gid !== undefined) return gid;
  if (ID.test(text)) throw usage(`id out of range (got ${quotedOptionValue(text)})`);
  if (files.group === undefined) {
    throw usage(`no /etc/group to look up the group ${quotedOptionValue(text)}`, "give a numeric GID");
  }
  const group = parseGroup(files.group).find((g) => g.name === text);
  if (group === undefined)
    throw usage(`no group ${quotedOptionValue(text)} in /etc/group`, "give a numeric GID");
  return group.gid;
}

/** The account files of this system; a missing file is "not there", any other failure is an error. */
export function readAccountFiles(root = "/etc"): AccountFiles {
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(`${root}/${name}`, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new SecretwrapError("USAGE", `--user: cannot read ${root}/${name}`, { cause: error });
    }
  };
  const passwd = read("passwd");
  const group = read("group");
  return { ...(passwd === undefined ? {} : { passwd }), ...(group === undefined ? {} : { group }) };
}

/** --user's text → the account, looked up in this system's /etc/passwd and /etc/group. */
export function parseUser(text: string): Account {
  return resolveUser(text, readAccountFiles());
}

export function requireRoot(): void {
  if (process.geteuid?.() !== 0) {
    throw new SecretwrapError("USAGE", "--user needs secretwrap to run as root", {
      hint: "drop --user, or start secretwrap as root so it can hand the app and its files to that user",
    });
  }
}

/** In-process drop before execve: groups first, then gid, then uid (the order that cannot be undone). */
export function dropPrivileges(owner: Owner): void {
  const { setgroups, setgid, setuid } = process;
  if (setgroups === undefined || setgid === undefined || setuid === undefined) {
    throw new SecretwrapError("USAGE", "--user is not supported on this platform");
  }
  setgroups([]);
  setgid(owner.gid);
  setuid(owner.uid);
}
