// src/run-state.ts: the store each provider gets with its ProviderContext, one per run.
import { describe, expect, it } from "vitest";
import { createRunState } from "../../src/run-state.ts";

class Spent {
  readonly tokens = new Set<string>();
}
class Other {}

describe("RunState", () => {
  it("gives the same instance of a class for the whole run, made on first request", () => {
    const state = createRunState();
    const first = state.get(Spent);
    first.tokens.add("wrapping-token");
    expect(state.get(Spent)).toBe(first);
    expect(state.get(Spent).tokens.has("wrapping-token")).toBe(true);
  });

  it("keys by class, and another run starts empty", () => {
    const state = createRunState();
    state.get(Spent).tokens.add("wrapping-token");
    expect(state.get(Other)).toBeInstanceOf(Other);
    expect(createRunState().get(Spent).tokens.size).toBe(0);
  });
});
