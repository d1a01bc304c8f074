import { describe, expect, it } from "vitest";
import { settingsFileSchema, toJsonSchema } from "../../src/config/schema.js";
import { measureEditDistance, suggestKey } from "../../src/config/suggest.js";

describe("toJsonSchema", () => {
  it("publishes every top-level key and forbids unknown ones", () => {
    const schema = toJsonSchema() as {
      properties: Record<string, unknown>;
      additionalProperties: unknown;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(
      Object.keys(settingsFileSchema().shape).sort(),
    );
    expect(schema.properties).toHaveProperty("download");
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe("suggestKey", () => {
  const keys = ["upload", "download", "remote_dir", "startup", "shutdown", "env"];
  it.each([
    ["uplod", "upload"],
    ["uplaod", "upload"],
    ["remotedir", "remote_dir"],
    ["remote-dir", "remote_dir"],
    ["Download", "download"],
    ["startp", "startup"],
    ["environment", undefined],
    ["zzz", undefined],
  ])("%s → %s", (word, expected) => {
    expect(suggestKey(word, keys)).toBe(expected);
  });

  it("counts a swap of neighbours as one edit", () => {
    expect(measureEditDistance("ab", "ba")).toBe(1);
    expect(measureEditDistance("kitten", "sitting")).toBe(3);
  });
});
