// Token, key, certificate and CA files that a provider reads, or that its SDK reads on its behalf:
// each must be a regular file (src/regular-file.ts). A FIFO would block the open(2) (the main thread,
// or a libuv thread the exit then waits for) so that neither SIGTERM nor --timeout could end the run.
// stat(2) does not open, so the check itself never blocks; it runs before the file is read and before
// the SDK is asked. The same code in every provider: 78, naming the path, never the content.
import { SecretwrapError, notARegularFile } from "../../src/provider-api.ts";

/** Throws CONFIG_INVALID (78) unless `path` names a regular file or nothing (the reader reports that). */
export function refuseIfNotRegularFile(path: string, provider: string, what: string): void {
  const problem = notARegularFile(path);
  if (problem === undefined) return;
  throw new SecretwrapError("CONFIG_INVALID", `${provider}: ${what} ${path} ${problem}`, {
    subject: { provider },
    hint: "point it at a regular file (not a directory, FIFO, pipe or device)",
  });
}
