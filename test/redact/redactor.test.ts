import { createHmac, randomBytes } from "node:crypto";
import { PassThrough, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pino from "pino";
import { describe, expect, test } from "vitest";
import { Redactor, createRedactStream, pipesealPinoDestination, pipesealPinoHook } from "../../src/redact/index.js";

const KEY = Buffer.alloc(32, 7);

describe("operators", () => {
  const line = "mail bob@example.org card 4539 1488 0343 6467 key ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

  test("redact", () => {
    expect(new Redactor().redactLine(line)).toBe("mail [EMAIL] card [CREDIT_CARD] key [GITHUB_TOKEN]");
  });

  test("mask keeps the last 4 (same length); short values are fully masked", () => {
    const r = new Redactor({ operators: { default: "mask" } });
    expect(r.redactLine(line)).toBe(`mail ***********.org card ***************6467 key ${"*".repeat(36)}Q7r8`);
    expect(r.redactLine("DB_PASSWORD=hunter2Gr8!")).toBe("DB_PASSWORD=***********");
  });

  test("hash: keyed HMAC-SHA-256 pseudonym, stable per key, different under another key", () => {
    const r = new Redactor({ operators: { email: "hash" }, hashKey: KEY });
    const expected = createHmac("sha256", KEY).update("bob@example.org").digest("hex").slice(0, 8);
    expect(r.redactLine("a bob@example.org b bob@example.org")).toBe(`a [EMAIL:${expected}] b [EMAIL:${expected}]`);
    const other = new Redactor({ operators: { email: "hash" }, hashKey: randomBytes(32) });
    expect(other.redactLine("bob@example.org")).not.toBe(`[EMAIL:${expected}]`);
    expect(new Redactor({ operators: { email: "hash" }, hashKey: KEY, hashLength: 16 }).redactLine("bob@example.org")).toMatch(/^\[EMAIL:[0-9a-f]{16}\]$/);
  });

  test("hash pseudonyms do not depend on the encoding the value arrived in", () => {
    const r = new Redactor({ operators: { default: "hash" }, hashKey: KEY });
    const plain = r.redactLine('{"a":"bob@example.org"}');
    const escaped = r.redactLine(String.raw`{"a":"bob\u0040example.org"}`);
    expect(escaped).toBe(plain);
  });

  test("misconfiguration fails early", () => {
    expect(() => new Redactor({ operators: { email: "hash" } })).toThrow(/hash key/);
    expect(() => new Redactor({ operators: { email: "hash" }, hashKey: Buffer.alloc(16) })).toThrow(/32 bytes/);
    expect(() => new Redactor({ operators: { email: "encrypt" } })).toThrow(/keyring/);
    expect(() => new Redactor({ operators: { email: "tokenize" } })).toThrow(/tokenize operator needs a keyring/);
    expect(() => new Redactor({ operators: { email: "vault" as never } })).toThrow(/must be one of/);
  });
});

describe("JSON lines are redacted field-aware", () => {
  test("only string values; keys, numbers and layout kept byte for byte", () => {
    const r = new Redactor();
    const line = '{"bob@example.org": 1, "msg" : "hi bob@example.org", "card": 4539148803436467, "n": [ "8.8.8.8", 2 ]}';
    expect(r.redactLine(line)).toBe('{"bob@example.org": 1, "msg" : "hi [EMAIL]", "card": 4539148803436467, "n": [ "[IP_ADDRESS]", 2 ]}');
  });

  test("the key lends context to its value", () => {
    expect(new Redactor().redactLine('{"password":"hunter2Gr8!","user":"x"}')).toBe('{"password":"[SECRET]","user":"x"}');
  });

  test("escaped values stay valid JSON under every operator", () => {
    const line = String.raw`{"msg":"say \"bob\u0040example.org\" \\ ok"}`;
    for (const op of ["redact", "mask", "hash"] as const) {
      const out = new Redactor({ operators: { default: op }, hashKey: KEY }).redactLine(line)!;
      const parsed = JSON.parse(out) as { msg: string };
      expect(parsed.msg).not.toContain("bob@example.org");
      expect(parsed.msg).toMatch(/^say "[^"]+" \\ ok$/);
    }
  });

  test("a line that is not valid JSON is plain text", () => {
    expect(new Redactor().redactLine('{"msg": "bob@example.org" oops')).toBe('{"msg": "[EMAIL]" oops');
  });

  test("json: false treats every line as text", () => {
    expect(new Redactor({ json: false }).redactLine('{"bob@example.org":1}')).toBe('{"[EMAIL]":1}');
  });

  test("stats per detector", () => {
    const r = new Redactor();
    r.redactText('{"a":"bob@example.org"}\nip 8.8.8.8 and 1.1.1.1\nnothing');
    expect(r.stats).toEqual({ lines: 3, jsonLines: 1, redacted: 3, byDetector: { email: 1, "ip-address": 2 } });
  });
});

describe("multi-line private keys in plain text", () => {
  const lines = ["before", "key: -----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA", "abcdef", "-----END RSA PRIVATE KEY----- after", "next bob@example.org"];

  test("the whole block becomes one replacement; text after END kept", () => {
    expect(new Redactor().redactText(lines.join("\n"))).toBe(["before", "key: [PRIVATE_KEY] after", "next [EMAIL]"].join("\n"));
  });

  test("line by line: BEGIN line redacted, body lines dropped, text after END kept", () => {
    const r = new Redactor();
    expect(lines.map((l) => r.redactLine(l))).toEqual(["before", "key: [PRIVATE_KEY]", null, null, " after", "next [EMAIL]"]);
  });

  test("a block split across stream chunks", async () => {
    const text = lines.join("\n") + "\n";
    for (const size of [5, 17, 40]) {
      const parts: string[] = [];
      for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
      const out = await collect(parts);
      expect(out).not.toContain("MIIEow");
      expect(out).not.toContain("abcdef");
      expect(out).toContain("[PRIVATE_KEY]");
      expect(out).toContain(" after\nnext [EMAIL]\n");
    }
  });
});

async function collect(input: string[], options = {}): Promise<string> {
  const src = new PassThrough();
  const stream = createRedactStream(options);
  let out = "";
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out += c.toString();
      cb();
    },
  });
  const done = pipeline(src, stream, sink);
  for (const chunk of input) src.write(Buffer.from(chunk));
  src.end();
  await done;
  return out;
}

describe("createRedactStream", () => {
  test("lines split across chunks and multi-byte characters split across chunks", async () => {
    const text = "héllo bob@exa";
    const b = Buffer.from(text + "mple.org ünïcode\r\nlast 8.8.8.8");
    const src = new PassThrough();
    const stream = createRedactStream();
    const chunks: Buffer[] = [];
    const done = pipeline(src, stream, new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }));
    for (let i = 0; i < b.length; i += 3) src.write(b.subarray(i, i + 3));
    src.end();
    await done;
    expect(Buffer.concat(chunks).toString()).toBe("héllo [EMAIL] ünïcode\r\nlast [IP_ADDRESS]");
    expect(stream.redactor.stats.redacted).toBe(2);
  });

  test("a line longer than maxLineLength is redacted in pieces with flat memory", async () => {
    const out = await collect(["x".repeat(100) + " bob@example.org " + "y".repeat(100) + "\n"], { maxLineLength: 64 });
    expect(out).not.toContain("bob@example.org");
  });
});

describe("pino end to end", () => {
  function sink(): { lines: string[]; dest: { write(s: string): boolean } } {
    const lines: string[] = [];
    return { lines, dest: { write: (s: string) => (lines.push(...s.split("\n").filter(Boolean)), true) } };
  }

  test("pino's redact paths plus pipeseal on free text, through pipesealPinoDestination", () => {
    const { lines, dest } = sink();
    const log = pino({ redact: ["req.headers.authorization"], base: null, timestamp: false }, pipesealPinoDestination(dest));
    log.info(
      { req: { headers: { authorization: "Basic dXNlcjpwYXNz" } }, user: { email: "carol@example.net" } },
      "payment from card 4539 1488 0343 6467 by bob@example.org",
    );
    log.child({ ip: "8.8.8.8" }).warn("token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 leaked");
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.req.headers.authorization).toBe("[Redacted]");
    expect(first.user.email).toBe("[EMAIL]");
    expect(first.msg).toBe("payment from card [CREDIT_CARD] by [EMAIL]");
    const second = JSON.parse(lines[1]!);
    expect(second).toEqual({ level: 40, ip: "[IP_ADDRESS]", msg: "token [GITHUB_TOKEN] leaked" });
  });

  test("hooks.streamWrite", () => {
    const { lines, dest } = sink();
    const log = pino({ base: null, timestamp: false, hooks: { streamWrite: pipesealPinoHook({ operators: { default: "mask" } }) } }, dest);
    log.info("call +1 415-555-0132");
    expect(JSON.parse(lines[0]!).msg).toBe("call ***********0132");
  });

  test("the encrypt operator is refused on the synchronous pino path", () => {
    expect(() =>
      pipesealPinoDestination({ write: () => true }, { operators: { default: "encrypt" }, encrypt: { keyring: {} as never, keyName: "k" } }),
    ).toThrow(/createRedactStream/);
  });
});
