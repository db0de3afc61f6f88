// The one place a provider writes process.env. Providers read their settings from ctx.env and hand
// them to their SDK as options; a few SDK settings can only be given through process.env, read by the
// SDK at call time (gcp-metadata's GCE_METADATA_HOST on every metadata request; the AWS SDK's switch
// for its Node version warning, at each client it constructs). Those are set here for as long as the
// session lives, and put back as they were when it closes or its connect fails.

/** Sets each variable (undefined: unset) and returns what restores the values they had, once. */
export function overrideProcessEnv(values: Readonly<Record<string, string | undefined>>): () => void {
  const previous = Object.keys(values).map((name) => [name, process.env[name]] as const);
  setAll(Object.entries(values));
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    setAll(previous);
  };
}

/**
 * Connects with `values` set: `open` gets the restore function for its session's close; a connect that
 * fails puts the values back itself.
 */
export async function connectWithProcessEnv<T>(
  values: Readonly<Record<string, string | undefined>>,
  open: (restoreEnv: () => void) => Promise<T>,
): Promise<T> {
  const restoreEnv = overrideProcessEnv(values);
  try {
    return await open(restoreEnv);
  } catch (error) {
    restoreEnv();
    throw error;
  }
}

function setAll(entries: readonly (readonly [string, string | undefined])[]): void {
  for (const [name, value] of entries) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
