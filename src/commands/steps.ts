// The named steps the commands are made of: load → plan, open the secrets dir, fetch (resolve and
// turn outcomes into values per target), fail closed, write the files, audit. Each command
// (run.ts, check.ts, get.ts, render.ts) is a short list of these.
import type { CommonOptions } from "../cli.ts";
import { runCancellation } from "../cancellation.ts";
import { declare, type DeclareInput, type Declared } from "../config/declare.ts";
import { SecretsFailedError } from "../errors.ts";
import { parseUser, requireRoot, type Account } from "../exec/user.ts";
import { publishFileSet } from "../output/file-set.ts";
import {
  prepareSecretsDir,
  publishFiles,
  removeSecretsDir,
  type Owner,
  type SecretsDir,
} from "../output/files.ts";
import type { PlannedTemplate, Target } from "../plan.ts";
import { loadProvider } from "../provider.ts";
import { auditLine, type SecretReport } from "../report.ts";
import { closeSession, resolvePlan, type Resolution } from "../resolve.ts";
import { DEFAULT_RETRY } from "../retry.ts";
import { stoppedBy } from "../signals.ts";
import { filesToWrite, targetValues, type DeliveryMode, type TargetValues } from "../target-values.ts";
import type { CommandContext } from "./context.ts";

/** --user: the account (root only), checked before anything is read. */
export function ownerFor(user: string | undefined): Account | undefined {
  if (user === undefined) return undefined;
  const owner = parseUser(user);
  requireRoot();
  return owner;
}

/** Load every declaration and plan the fetches, with every problem in one error. */
export async function loadPlan(ctx: CommandContext, input: DeclareInput): Promise<Declared> {
  const declared = await declare(input);
  for (const warning of declared.loaded.warnings) ctx.log.warn(warning);
  return declared;
}

/** The declaring inputs every command takes from the common options. */
export function declaring(
  options: CommonOptions,
): Pick<DeclareInput, "configPath" | "envFiles" | "allowNames" | "compat"> {
  return {
    ...(options.config === undefined ? {} : { configPath: options.config }),
    ...(options.compat === undefined ? {} : { compat: options.compat }),
    envFiles: options.envFiles,
    allowNames: options.allowNames,
  };
}

/**
 * Prepare the secrets dir before any request (a wrong dir is a fast, local failure): only when some
 * target is a file.
 */
export function openSecretsDir(
  ctx: CommandContext,
  fileTargets: readonly (Target | PlannedTemplate)[],
  options: {
    readonly dir: string | undefined;
    readonly allowDisk: boolean;
    readonly owner: Owner | undefined;
    readonly shared: boolean;
  },
): SecretsDir | undefined {
  if (fileTargets.length === 0) return undefined;
  const dir = prepareSecretsDir({
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    allowDisk: options.allowDisk,
    ...(options.owner === undefined ? {} : { owner: options.owner }),
    shared: options.shared,
  });
  if (dir.warning !== undefined) ctx.log.warn(dir.warning);
  return dir;
}

/** Runs the rest of a command; a secrets dir this run created is removed if it fails. */
export async function removingDirOnFailure<T>(
  dir: SecretsDir | undefined,
  rest: () => Promise<T>,
): Promise<T> {
  try {
    return await rest();
  } catch (error) {
    if (dir !== undefined && dir.created) removeSecretsDir(dir);
    throw error;
  }
}

/** What fetchSecrets gives a command: each target's value and report, and the credentials read. */
export interface FetchedSecrets extends TargetValues {
  /** Bootstrap credentials the providers read from the environment (kept from the app). */
  readonly consumedEnv: readonly string[];
  /** Each fetch's outcome, and (with keepSessions, for --watch) each provider's open session. */
  readonly resolution: Resolution;
}

/**
 * Resolve every secret of the plan under the run's one cancellation signal, then turn the outcomes
 * into values per target. A stop signal ends the run here, whatever the fetches reported (one may
 * have ended by the deadline first).
 */
export async function fetchSecrets(
  ctx: CommandContext,
  declared: Declared,
  options: CommonOptions,
  how: { readonly mode: DeliveryMode; readonly stopOnFailure: boolean; readonly keepSessions?: boolean },
): Promise<FetchedSecrets> {
  const { plan, loaded } = declared;
  const cancellation = runCancellation(ctx.router, options.timeoutMs);
  const resolution = await resolvePlan(plan, {
    loadProvider,
    env: ctx.appView,
    providerOptions: loaded.providerOptions,
    log: ctx.log,
    redactor: ctx.redactor,
    cancellation,
    retry: { ...DEFAULT_RETRY, attemptTimeoutMs: options.attemptTimeoutMs },
    concurrency: options.concurrency,
    stopOnFailure: how.stopOnFailure,
    keepSessions: how.keepSessions === true,
  }).finally(cancellation.dispose);
  if (ctx.router.stopRequested !== undefined) {
    await closeSessions(resolution, ctx);
    throw stoppedBy(ctx.router.stopRequested);
  }
  const values = targetValues(plan, resolution.outcomes, how.mode, ctx.redactor);
  // The keys of an expanded secret (DB_*) are names only now: a plain value they replace is told now.
  const expanded = values.plan.targets.flatMap((t) =>
    t.expandedFrom === undefined ? [] : [{ name: t.name, source: `${t.source} (${t.expandedFrom.pattern})` }],
  );
  if (expanded.length > 0) for (const warning of loaded.laterSecrets(expanded)) ctx.log.warn(warning);
  return { ...values, consumedEnv: resolution.consumedEnv, resolution };
}

/** The sessions a resolution kept open, closed (a run that fails before its watch starts). */
export async function closeSessions(resolution: Resolution, ctx: CommandContext): Promise<void> {
  await Promise.all(
    [...resolution.sessions].map(([scheme, session]) => closeSession(session, scheme, ctx.log)),
  );
}

/** Runs `rest` with the resolution's sessions; if it fails, they are closed before the error goes on. */
export async function closingSessionsOnFailure<T>(
  fetched: FetchedSecrets,
  ctx: CommandContext,
  rest: () => Promise<T>,
): Promise<T> {
  try {
    return await rest();
  } catch (error) {
    await closeSessions(fetched.resolution, ctx);
    throw error;
  }
}

/** Fail closed: a secret that was not fetched is missing, whatever the reason. */
export function requireAll(fetched: TargetValues): void {
  const { failures, notFetched } = fetched;
  if (failures.length === 0 && notFetched.length === 0) return;
  const skipped =
    notFetched.length === 0
      ? ""
      : ` (${notFetched.length} more not fetched after that: ${notFetched.join(", ")})`;
  throw new SecretsFailedError(
    failures,
    // Counted in the plan as delivered: a key of an expanded secret (DB_*) that fails is one of its targets.
    `${failures.length} of ${fetched.plan.targets.length} secrets could not be resolved${skipped}`,
  );
}

/** Write the targets' files into the secrets dir; target name → its path. */
export function writeFiles(
  ctx: CommandContext,
  dir: SecretsDir | undefined,
  targets: readonly Target[],
  values: ReadonlyMap<string, Uint8Array>,
  options: {
    readonly owner: Owner | undefined;
    readonly remove: boolean;
    /** --watch: as one set behind a `..data` link, so a later set replaces it at once (file-set.ts). */
    readonly asSet?: boolean;
    /** Config templates, written with the targets' files as one set. */
    readonly templates?: readonly PlannedTemplate[];
  },
): Map<string, string> {
  if (dir === undefined) return new Map();
  const publish = options.asSet === true ? publishFileSet : publishFiles;
  return publish(dir.path, filesToWrite(targets, values, options.templates), options.owner, {
    remove: options.remove,
    warn: (message) => ctx.log.warn(message),
  });
}

/** Audit lines say a secret was delivered: only once it is (a full tmpfs may still fail the run). */
export function audit(ctx: CommandContext, reports: readonly SecretReport[]): void {
  reports.forEach((report) => auditLine(ctx.log, report));
}
