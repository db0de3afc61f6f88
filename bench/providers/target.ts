// What scenarios 2-4 need from a provider set-up: the environment and arguments a container would give
// secretwrap for 50 secrets in 10 paths, the fake servers' request logs, and what one run should send.
import { randomBytes } from "node:crypto";
import type { Classifier, Servers } from "../requests.ts";

export interface NetworkTarget {
  readonly name: string;
  /** Provider settings plus the 50 declared references. */
  readonly env: Readonly<Record<string, string>>;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly servers: Servers;
  readonly classify: Classifier;
  /** Requests of one run by kind, as the issue describes the ideal. */
  readonly expected: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export const PATHS = 10;
export const KEYS_PER_PATH = 5;

export interface Entry {
  /** The variable the app gets, e.g. S3_K1. */
  readonly name: string;
  readonly path: number;
  readonly key: string;
}

/** 10 paths × 5 keys = 50 secrets, each key delivered as its own variable. */
export function layout(): Entry[] {
  const entries: Entry[] = [];
  for (let path = 0; path < PATHS; path++)
    for (let k = 0; k < KEYS_PER_PATH; k++) entries.push({ name: `S${path}_K${k}`, path, key: `k${k}` });
  return entries;
}

/** One path's document: every key with a random value. */
export function document(): Record<string, string> {
  const doc: Record<string, string> = {};
  for (let k = 0; k < KEYS_PER_PATH; k++) doc[`k${k}`] = randomBytes(16).toString("hex");
  return doc;
}

/** The declared references, as inherited environment variables (secretwrap's simplest source). */
export function declare(ref: (entry: Entry) => string): Record<string, string> {
  return Object.fromEntries(layout().map((e) => [e.name, ref(e)]));
}
