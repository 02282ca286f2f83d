/** The strict YAML reader: every error names file, line, column and path, and never a value. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { type YamlPosition, formatPath, schemaChecker, yamlReader } from "../../src/io/yaml-schema.js";

interface File {
  version: 1;
  name: string;
  mode?: "strict" | "loose";
  rules: { id: string; limit?: number; tags?: string[] }[];
}

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["version", "name", "rules"],
  properties: {
    version: { const: 1 },
    name: { type: "string", pattern: "^[a-z]+$", hint: "use lowercase letters" },
    mode: { enum: ["strict", "loose"] },
    rules: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: {
          id: { type: "string", minLength: 1 },
          limit: { type: "integer", minimum: 0 },
          tags: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};

const positions: YamlPosition[] = [];
const read = yamlReader<File>(SCHEMA, (message, at) => {
  positions.push(at);
  return new UsageError("INVALID_ARGUMENT", message);
});

function errorOf(text: string): UsageError {
  try {
    read(text, "f.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error("expected the reader to refuse the file");
}

const GOOD = "version: 1\nname: demo\nrules:\n  - id: a\n    limit: 3\n";

describe("yamlReader", () => {
  it("returns the data of a valid file, and where each part of it is", () => {
    const doc = read(GOOD, "f.yaml");
    expect(doc.data).toEqual({ version: 1, name: "demo", rules: [{ id: "a", limit: 3 }] });
    expect(doc.at(["rules", 0, "limit"])).toEqual({ line: 5, col: 12 });
    expect(doc.at(["rules", 0, "limit"], "key")).toEqual({ line: 5, col: 5 });
    expect(doc.at(["nothing", "here"])).toEqual({ line: 1, col: 1 });
  });

  it("names the line and column of a syntax error", () => {
    expect(errorOf("version: 1\nname: [unclosed\n").message).toMatch(/^f\.yaml:\d+:\d+: YAML: /);
    expect(errorOf("version: 1\nversion: 2\n").message).toMatch(/^f\.yaml:2:1: YAML: Map keys must be unique/);
  });

  it("points an unknown key at the key and lists the allowed ones", () => {
    expect(errorOf(GOOD + "    colour: red\n").message).toBe('f.yaml:6:5: rules[0].colour: unknown key "colour" (allowed: id, limit, tags)');
    expect(positions.at(-1)).toEqual({ line: 6, col: 5 });
  });

  it("shows a misspelt key before the required key it was meant to be", () => {
    expect(errorOf("version: 1\nname: demo\nrules:\n  - idd: a\n").message).toBe('f.yaml:4:5: rules[0].idd: unknown key "idd" (allowed: id, limit, tags)');
  });

  it("says which key is missing, at the mapping that lacks it", () => {
    expect(errorOf("version: 1\nname: demo\nrules:\n  - limit: 2\n").message).toBe("f.yaml:4:5: rules[0]: `id` is required");
    expect(errorOf("").message).toBe("f.yaml:1:1: must be a mapping");
  });

  it("names types, allowed values, limits and hints in words", () => {
    expect(errorOf(GOOD.replace("limit: 3", "limit: many")).message).toBe("f.yaml:5:12: rules[0].limit: must be an integer");
    expect(errorOf(GOOD.replace("limit: 3", "limit: -1")).message).toBe("f.yaml:5:12: rules[0].limit: must be >= 0");
    expect(errorOf(GOOD + "mode: fast\n").message).toBe("f.yaml:6:7: mode: must be one of strict, loose");
    expect(errorOf(GOOD.replace("name: demo", "name: Demo")).message).toBe("f.yaml:2:7: name: use lowercase letters");
    expect(errorOf(GOOD.replace("version: 1", "version: 2")).message).toBe("f.yaml:1:10: version: must be 1");
    expect(errorOf("version: 1\nname: demo\nrules: []\n").message).toBe("f.yaml:3:8: rules: must not be empty");
    expect(errorOf(GOOD + "    tags: [x, [y]]\n").message).toBe("f.yaml:6:15: rules[0].tags[1]: must be a string");
  });

  it("never echoes a value from the file, and strips control characters from keys", () => {
    const secret = "sk_live_0123456789abcdefSECRET";
    for (const text of [
      GOOD.replace("name: demo", `name: ${secret}`),
      GOOD.replace("limit: 3", `limit: ${secret}`),
      GOOD + `mode: ${secret}\n`,
      GOOD + `    tags: ${secret}\n`,
      `version: 1\nname: [${secret}\n`,
    ]) {
      const m = errorOf(text).message;
      expect(m).not.toContain("SECRET");
    }
    const m = errorOf(GOOD + '"bad\\u001b[31mkey": 1\n').message;
    expect(m).not.toMatch(/[\u0000-\u001f]/);
    expect(m).toContain('unknown key "bad?[31mkey"');
  });

  it("refuses an alias bomb instead of expanding it", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) bomb.push(`${"bcdefghi"[i]}: &${"bcdefghi"[i]} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`);
    expect(errorOf(bomb.join("\n")).message).toMatch(/^f\.yaml:1:1: YAML: /);
  });

  it("lets the caller fail at a path with the same form", () => {
    const doc = read(GOOD, "f.yaml");
    expect(() => doc.fail(["rules", 0, "id"], 'unknown role "a"')).toThrow('f.yaml:4:9: rules[0].id: unknown role "a"');
    expect(() => doc.fail([], "empty")).toThrow(/^f\.yaml:1:1: empty$/);
  });

  it("points a key refused by `propertyNames` at the key, in the words of its hint", () => {
    const named = yamlReader<unknown>(
      {
        type: "object",
        propertyNames: { type: "string", pattern: "^[a-z]+$", hint: "must be lowercase letters" },
        additionalProperties: { type: "integer" },
      },
      (message) => new UsageError("INVALID_ARGUMENT", message),
    );
    expect(() => named("ok: 1\nNot Ok: 2\n", "f.yaml")).toThrow(/^f\.yaml:2:1: Not Ok: key "Not Ok" must be lowercase letters$/);
    const plain = yamlReader<unknown>(
      { type: "object", propertyNames: { type: "string", maxLength: 2 } },
      (message) => new UsageError("INVALID_ARGUMENT", message),
    );
    expect(() => plain("abc: 1\n", "f.yaml")).toThrow(/^f\.yaml:1:1: abc: key "abc" is not valid$/);
  });

  it("names a choice in the words of its hint, else by its first branch", () => {
    const choice = { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] };
    const hinted = yamlReader<unknown>({ type: "object", properties: { a: { ...choice, hint: "must be a string or a list of them" } } }, (m) => new Error(m));
    expect(() => hinted("a: 5\n", "f.yaml")).toThrow(/^f\.yaml:1:4: a: must be a string or a list of them$/);
    const bare = yamlReader<unknown>({ type: "object", properties: { a: choice } }, (m) => new Error(m));
    expect(() => bare("a: 5\n", "f.yaml")).toThrow(/^f\.yaml:1:4: a: must be a string$/);
  });

  it("checks data built in code against the same schema, naming the path", () => {
    const check = schemaChecker<File>(SCHEMA, (m) => new UsageError("INVALID_ARGUMENT", m));
    expect(check({ version: 1, name: "demo", rules: [{ id: "a" }] }).name).toBe("demo");
    expect(() => check({ version: 1, name: "demo", rules: [{ id: "a", colour: "red" }] })).toThrow(/^rules\[0\]\.colour: unknown key "colour"/);
    expect(() => check(null)).toThrow(/^must be a mapping$/);
  });

  it("formats paths as keys and indexes", () => {
    expect(formatPath(["rules", 3, "when", "hours"])).toBe("rules[3].when.hours");
    expect(formatPath([])).toBe("");
  });
});
