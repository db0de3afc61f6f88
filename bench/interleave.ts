// Runs every variant once per round, in an order that rotates each round, so a burst of load from the
// other suites on this machine hits all variants alike instead of whichever happened to run then.
export interface Variant {
  readonly label: string;
  /** One run; returns milliseconds (or any sample the scenario wants). `round` < 0: a warm-up. */
  readonly run: (round: number) => Promise<number>;
}

export async function interleave(
  variants: readonly Variant[],
  rounds: number,
  options: { readonly warmup?: number } = {},
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  // Warm-up rounds fill the page cache and the fakes' connection state; they are not recorded.
  const warmup = options.warmup ?? 1;
  for (let round = -warmup; round < rounds; round++) {
    const offset = ((round % variants.length) + variants.length) % variants.length;
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + offset) % variants.length];
      if (variant === undefined) continue;
      const value = await variant.run(round);
      if (round >= 0) samples.get(variant.label)?.push(value);
    }
  }
  return samples;
}
