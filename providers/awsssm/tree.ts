// vals' prefix form: the parameters under a path as one document, keyed by the rest of their names
// ("/myapp/db/password" under "/myapp" is {"db": {"password": …}} when read recursively, and one level
// reads only "/myapp/<name>"). Where a parameter also has parameters under it (recursive), its
// children win, whatever order SSM listed them in, as vals intends. Names are sorted first, so the same
// parameters always give the same bytes (the watch compares them). Pure.

export interface Entry {
  readonly name: string;
  readonly value: string;
}

type Node = { [key: string]: Node | string };

export function documentOf(path: string, entries: readonly Entry[]): Node {
  // Keys are data: a parameter named "__proto__" is a key like any other.
  const root: Node = Object.create(null) as Node;
  const base = path.endsWith("/") ? path : `${path}/`;
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, value } of sorted) {
    if (!name.startsWith(base) || name.length === base.length) continue;
    const parts = name.slice(base.length).split("/");
    let node = root;
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1) {
        // A leaf never replaces the parameters under the same name (sorted: they come after it).
        if (typeof node[part] !== "object") node[part] = value;
        continue;
      }
      let next = node[part];
      if (typeof next !== "object") {
        next = Object.create(null) as Node;
        node[part] = next;
      }
      node = next;
    }
  }
  return root;
}
