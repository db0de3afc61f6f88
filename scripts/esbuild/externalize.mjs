import { resolve } from "node:path";

/** Imports matching `filter` are left to Node at run time as `to(resolved path)`. */
export const externalize = (name, filter, to) => ({
  name,
  setup(build) {
    build.onResolve({ filter }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      const target = to(path, args);
      return target === undefined ? undefined : { path: target, external: true };
    });
  },
});
