import { describe, expect, it } from "vitest";
import { buildProgram, describeCommands } from "../../src/cli.ts";

const io = { writeOut: () => {}, writeErr: () => {}, env: {} };
const ALL = ["run", "check", "get", "render", "export", "version", "completion"];
const full = describeCommands(buildProgram(io, () => {}));

describe("buildProgram: only the subcommand the command line names", () => {
  it.each([undefined, "completion", "help", "--help", "-V", "runn", "", "RUN"])(
    "builds every subcommand for %j",
    (first) => {
      const program = buildProgram(io, () => {}, first);
      expect(program.commands.map((c) => c.name())).toEqual(ALL);
    },
  );

  it.each(["run", "check", "get", "render", "export", "version"])(
    "builds %s alone, with the same options",
    (name) => {
      const alone = describeCommands(buildProgram(io, () => {}, name));
      expect(alone).toEqual(full.filter((c) => c.name === name));
    },
  );

  it("parses a run built alone as the full program does", () => {
    const argv = ["run", "--timeout", "5s", "--keep-env", "A,B", "--", "node", "server.js"];
    const results = [argv[0], undefined].map((only) => {
      let parsed: unknown;
      buildProgram(io, (c) => (parsed = c), only).parse(argv, { from: "user" });
      return parsed;
    });
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toMatchObject({ kind: "run", command: ["node", "server.js"] });
  });
});
