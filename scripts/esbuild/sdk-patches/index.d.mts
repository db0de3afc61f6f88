// Types of index.mjs, for measure.ts.
import type { Plugin } from "esbuild";

export declare const sdkPatchesByProvider: Readonly<Record<string, readonly Plugin[]>>;
export declare const sdkPatches: readonly Plugin[];
