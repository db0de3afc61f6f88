// A CommonJS package loaded with import() from the bundle arrives as { default: module.exports },
// while Node itself (tests run the sources) also exposes its named exports. Accept both.
export function commonJs<T extends object>(namespace: T): T {
  const keys = Object.keys(namespace);
  if (keys.length === 1 && keys[0] === "default") return (namespace as unknown as { default: T }).default;
  return namespace;
}
