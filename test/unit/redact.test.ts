import { describe, expect, it } from "vitest";
import { Redactor } from "../../src/redact.ts";
import { createLogger } from "../../src/log.ts";

describe("Redactor", () => {
  it("masks every known value, longest first, and JSON-escaped forms", () => {
    const r = new Redactor();
    // (values made only of secretwrap's own words are not masks: see log.test.ts R10)
    r.add("s3cr3t-v4lue");
    r.add('quote"d\nvalue');
    r.add(Buffer.from("byt3s-v4lue"));
    expect(r.mask("a s3cr3t-v4lue b byt3s-v4lue")).toBe("a [REDACTED] b [REDACTED]");
    expect(r.mask(JSON.stringify({ v: 'quote"d\nvalue' }))).toBe('{"v":"[REDACTED]"}');
  });

  it("masks single lines of a multi-line value", () => {
    const r = new Redactor();
    r.add("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END KEY-----");
    expect(r.mask("parser saw MIIEvQIBADANBgkqhkiG9w0B here")).not.toContain("MIIEvQIBADANBgkqhkiG9w0B");
  });

  it("leaves very short values alone rather than masking ordinary words", () => {
    const r = new Redactor();
    r.add("on");
    expect(r.mask("connection")).toBe("connection");
  });

  it("is applied to every log line, in text and JSON", () => {
    const lines: string[] = [];
    const r = new Redactor();
    r.add("hunter22");
    for (const format of ["text", "json"] as const) {
      const log = createLogger({ level: "debug", format, redactor: r, write: (l) => lines.push(l) });
      log.debug("value hunter22", { field: "hunter22" });
    }
    expect(lines.join("")).not.toContain("hunter22");
    expect(lines[0]).toMatch(/^secretwrap: debug: value \[REDACTED\] field=\[REDACTED\]\n$/);
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ level: "debug", msg: "value [REDACTED]" });
  });
});
