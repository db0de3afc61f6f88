// R11: whether secretwrap runs inside a container. It decides who removes a default secrets dir: in a
// container the tmpfs dies with it, so exec leaves the dir to the app and nothing of secretwrap stays
// resident; on a workstation /dev/shm lives until reboot, so the slim supervisor removes the dir
// when the app exits.
//
// The rule: a container is what its runtime marks as one. A mistake costs little either way (a
// supervisor on an unmarked container, or a dir left behind in a marked one), so marks only, no
// guessing from cgroup paths, whose form differs per runtime and cgroup version.
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface ContainerSigns {
  /** "/" except in tests. */
  readonly root: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pid: number;
}

/** The marks, in the order they are checked; documented in docs/security.md. */
export function containerMark(signs: ContainerSigns): string | undefined {
  // The init of a PID namespace: a container's entrypoint (as a workstation process it is not).
  if (signs.pid === 1) return "PID 1";
  for (const file of ["/.dockerenv", "/run/.containerenv"]) {
    if (existsSync(join(signs.root, file))) return file; // Docker; Podman and CRI-O
  }
  // systemd-nspawn, Podman, LXC set `container`; every Kubernetes pod gets the service host.
  for (const name of ["container", "KUBERNETES_SERVICE_HOST"]) {
    const value = signs.env[name];
    if (value !== undefined && value !== "") return `$${name}`;
  }
  return undefined;
}
