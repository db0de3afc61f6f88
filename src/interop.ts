// A CommonJS package loaded with import() arrives with its exports on `default` (module.exports):
// in the bundle that is all there is, while Node itself (tests run the sources) also adds named
// exports it can detect. `default` is the complete one in both.
export function commonJs<T extends object>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}
