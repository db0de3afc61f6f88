// --user UID[:GID]: the app (and its secret files) belong to this user; privileges are dropped just
// before exec.
import { SecretwrapError } from "../errors.ts";
import type { Owner } from "../output/files.ts";

export function parseUser(text: string): Owner {
  const match = /^([0-9]{1,10})(?::([0-9]{1,10}))?$/.exec(text);
  if (match === null)
    throw new SecretwrapError("USAGE", `--user takes UID[:GID] as numbers (got "${text.slice(0, 40)}")`);
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? uid : Number(match[2]);
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new SecretwrapError("USAGE", "--user: id out of range");
  return { uid, gid };
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
