// secretwrap lives for a fraction of a second, and its peak memory is an SDK loading. The old /bin/sh
// launcher passed --max-semi-space-size=1 (3-6 MB less); a `#!/usr/bin/env node` line can pass no
// flag, and that one is read only when the heap is set up. The growth factor is read each time the
// young generation would grow, so setting it later still keeps it small: peak before exec, median MB
// (old launcher / this / neither), for each SDK provider in providers/registry.ts's order:
// 72 / 73 / 75, 65 / 66 / 68, 74 / 77 / 79, 69 / 72 / 72. node:v8 drags Node's streams in (about
// 5 ms), so it is set when an SDK provider loads, not at start.
export function keepYoungGenerationSmall(): void {
  process.getBuiltinModule("node:v8").setFlagsFromString("--semi-space-growth-factor=1");
}
