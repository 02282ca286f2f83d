import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parquetReadObjects, parquetMetadata } from "hyparquet";
import { parquetWriteFile } from "hyparquet-writer";
import { beforeAll, describe, expect, it } from "vitest";
import { FieldError, FieldProtector, parseFieldPolicy, parseValue, runFields } from "../../src/fields/index.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { FLAT_YAML, POLICY_YAML, flatSample, policy, prng, sample, writePolicy } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist/cli/main.js");
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

async function setup() {
  const { ks, home } = await freshKeystore(["pii", "tok"]);
  return { ks, home, dir: tempDir() };
}

describe("fields: record round trips", () => {
  it("apply then reveal restores reversible fields; irreversible ones stay protected", async () => {
    const { ks } = await setup();
    const apply = new FieldProtector(policy(), ks, "apply", { flat: false });
    const out = [];
    for (const [i, r] of sample.entries()) out.push(await apply.process(clone(r) as Record<string, unknown>, i + 1));
    expect(out[0]!.email).toBe(out[1]!.email); // deterministic
    expect(parseValue(out[0]!.ssn)).toMatchObject({ action: "e", keyRef: "pii", version: 1 });
    expect(out[0]!.card).toMatch(/^\d{4}-\d{4}-\d{4}-1234$/);
    expect(out[0]!.card).not.toBe(sample[0]!.card);
    expect(typeof out[0]!.n).toBe("number");
    expect(String(out[0]!.n)).toHaveLength(8);
    expect(out[0]!.secret).toBeUndefined();
    expect(out[0]!.phone).toBe("+* *** **34");
    expect(apply.stats.absent).toMatchObject({ "addr[*].street": 1, secret: 1 });
    const reveal = new FieldProtector(policy(), ks, "reveal", { flat: false });
    const back = [];
    for (const [i, r] of out.entries()) back.push(await reveal.process(clone(r), i + 1));
    for (const [i, r] of back.entries()) {
      const want = { ...clone(sample[i]!) } as Record<string, unknown>;
      delete want.secret;
      expect({ ...r, name: undefined, phone: undefined }).toEqual({ ...want, name: undefined, phone: undefined });
    }
    expect(back[0]!.name).toBe(out[0]!.name);
  });

  it("randomized encryption differs each run; deterministic, tokens and pseudonyms do not", async () => {
    const { ks } = await setup();
    const run = async () => new FieldProtector(policy(), ks, "apply", { flat: false }).process(clone(sample[0]!) as Record<string, unknown>, 1);
    const [a, b] = [await run(), await run()];
    expect(a.ssn).not.toBe(b.ssn);
    expect([a.email, a.card, a.name, a.n]).toEqual([b.email, b.card, b.name, b.n]);
  });

  it("a moved, swapped or altered value fails to reveal with a typed, row-numbered error", async () => {
    const { ks } = await setup();
    const apply = new FieldProtector(policy(), ks, "apply", { flat: false });
    const r1 = await apply.process(clone(sample[0]!) as Record<string, unknown>, 1);
    const r2 = await apply.process(clone(sample[1]!) as Record<string, unknown>, 2);
    const reveal = () => new FieldProtector(policy(), ks, "reveal", { flat: false });
    // swapped between records (record id bound)
    await expect(reveal().process({ ...clone(r1), ssn: r2.ssn }, 1)).rejects.toMatchObject({ code: "DECRYPT_FAILED", row: 1, field: "ssn" });
    // moved between array elements (path bound)
    const moved = clone(r1) as { addr: Array<{ street: string }> };
    [moved.addr[0]!.street, moved.addr[1]!.street] = [moved.addr[1]!.street, moved.addr[0]!.street];
    await expect(reveal().process(moved as Record<string, unknown>, 1)).rejects.toBeInstanceOf(FieldError);
    // deterministic value moved to another deterministic field: schema path bound
    const p2 = parseFieldPolicy(
      POLICY_YAML.replace(
        "- { field: email, action: deterministic }",
        "- { field: email, action: deterministic }\n  - { field: email2, action: deterministic }",
      ),
    );
    await expect(new FieldProtector(p2, ks, "reveal", { flat: false }).process({ ...clone(r1), email2: r1.email }, 1)).rejects.toMatchObject({
      code: "DECRYPT_FAILED",
      field: "email2",
    });
    // altered ciphertext (a payload byte flipped) / not a pipeseal value (test/fields/malformed.test.ts has the rest)
    const s = r1.ssn as string;
    const head = s.slice(0, s.lastIndexOf(":") + 1);
    const payload = Buffer.from(s.slice(head.length), "base64url");
    payload[20]! ^= 1;
    await expect(reveal().process({ ...clone(r1), ssn: head + payload.toString("base64url") }, 1)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    await expect(reveal().process({ ...clone(r1), ssn: "123-45-6789" }, 1)).rejects.toMatchObject({ code: "FIELD_MALFORMED", row: 1 });
  });

  it("never silently leaves a named field unprotected", async () => {
    const { ks } = await setup();
    const p = new FieldProtector(policy(), ks, "apply", { flat: false });
    await expect(p.process({ id: "x", ssn: { nested: 1 } }, 7)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", row: 7, field: "ssn" });
    await expect(p.process({ id: "x", card: "12AB" }, 8)).rejects.toMatchObject({ row: 8, field: "card" });
    await expect(p.process({ id: "x", card: "12345" }, 9)).rejects.toThrow(/too short/);
    await expect(p.process({ ssn: "1" }, 10)).rejects.toThrow(/recordId/);
    await expect(p.process({ id: "x", ssn: "a\ud800b" }, 11)).rejects.toThrow(/surrogate/);
  });

  it("wrong key, rotated key + rewrap, destroyed version", async () => {
    const { ks } = await setup();
    const r = await new FieldProtector(policy(), ks, "apply", { flat: false }).process(clone(sample[0]!) as Record<string, unknown>, 1);
    // wrong key: same name in another keystore
    const other = await freshKeystore(["pii", "tok"]);
    await expect(new FieldProtector(policy(), other.ks, "reveal", { flat: false }).process(clone(r), 1)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    ks.rotateKey("pii");
    const old = await new FieldProtector(policy(), ks, "reveal", { flat: false }).process(clone(r), 1);
    expect(old.ssn).toBe("123-45-6789");
    const moved = await new FieldProtector(policy(), ks, "rewrap", { flat: false }).process(clone(r), 1);
    expect(parseValue(moved.ssn)!.version).toBe(2);
    expect(parseValue(moved.email)!.version).toBe(2);
    expect(moved.card).toBe(r.card); // tokens are pinned to their key (tok was not rotated)
    ks.destroyVersion("pii", 1);
    await expect(new FieldProtector(policy(), ks, "reveal", { flat: false }).process(clone(r), 1)).rejects.toMatchObject({ code: "KEY_DESTROYED" });
    expect((await new FieldProtector(policy(), ks, "reveal", { flat: false }).process(clone(moved), 1)).ssn).toBe("123-45-6789");
  });

  it("token rotation: previousVersion re-tokenizes under the new version", async () => {
    const { ks } = await setup();
    const y1 = POLICY_YAML.replace(
      "{ field: card, action: tokenize, key: tok, keepLast: 4 }",
      "{ field: card, action: tokenize, key: tok, keepLast: 4, version: 1 }",
    );
    const r = await new FieldProtector(policy(y1), ks, "apply", { flat: false }).process(clone(sample[0]!) as Record<string, unknown>, 1);
    ks.rotateKey("tok");
    const y2 = y1.replace("version: 1 }", "version: 2, previousVersion: 1 }");
    const moved = await new FieldProtector(policy(y2), ks, "rewrap", { flat: false }).process(clone(r), 1);
    expect(moved.card).not.toBe(r.card);
    expect((await new FieldProtector(policy(y2), ks, "reveal", { flat: false }).process(clone(moved), 1)).card).toBe(sample[0]!.card);
  });

  it("policy errors name the line", () => {
    expect(() => parseFieldPolicy("version: 1\nrules:\n  - field: a\n    action: shred\n", "p.yaml")).toThrow(/p\.yaml:4: action must be one of/);
    expect(() => parseFieldPolicy("version: 1\nrules:\n  - field: a\n    action: encrypt\n", "p.yaml")).toThrow(/p\.yaml:3: action encrypt needs a key/);
    expect(() => parseFieldPolicy("version: 1\nrules:\n  - { field: a, action: keep, colour: red }\n", "p.yaml")).toThrow(
      /p\.yaml:3: unknown rule key "colour"/,
    );
    expect(() => parseFieldPolicy("version: 1\nkey: k\nrecordId: id\nrules:\n  - { field: id, action: encrypt }\n", "p.yaml")).toThrow(
      /recordId field id must be keep/,
    );
  });

  it(`property: ${process.env.FIELDS_PROPERTY_N ?? "100000"} random records round-trip (FIELDS_PROPERTY_N for deeper runs)`, async () => {
    const { ks } = await setup();
    const N = Number(process.env.FIELDS_PROPERTY_N ?? 100_000);
    const rnd = prng(0x5eed);
    const pick = (s: string) => [...s][Math.floor(rnd() * [...s].length)]!;
    const str = (n: number, alphabet: string) => Array.from({ length: n }, () => pick(alphabet)).join("");
    const uni = 'aé😀中ß Ω\u0000"\\\n';
    const pol = policy(
      `version: 1\nkey: pii\nrecordId: id\nrules:\n  - { field: email, action: deterministic }\n  - { field: card, action: tokenize, key: tok, keepLast: 4 }\n  - { field: note, action: encrypt }\n  - { field: n, action: encrypt }\n`,
    );
    const apply = new FieldProtector(pol, ks, "apply", { flat: false });
    const reveal = new FieldProtector(pol, ks, "reveal", { flat: false });
    for (let i = 1; i <= N; i++) {
      const rec: Record<string, unknown> = { id: `r${i}`, email: str(1 + Math.floor(rnd() * 20), uni), card: str(10 + Math.floor(rnd() * 10), "0123456789") };
      if (rnd() < 0.7) rec.note = rnd() < 0.001 ? str(100_000, uni) : str(Math.floor(rnd() * 40), uni + "xyz");
      if (rnd() < 0.5) rec.n = rnd() < 0.5 ? Math.floor(rnd() * 1e12) : rnd() * 1e6;
      const want = clone(rec);
      const got = await reveal.process(await apply.process(rec, i), i);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect(got).toEqual(want);
    }
    expect(apply.stats.rows).toBe(N);
  }, 600_000);
});

describe("fields: formats through runFields", () => {
  let ks: Awaited<ReturnType<typeof setup>>["ks"];
  let dir: string;
  beforeAll(async () => ({ ks, dir } = await setup()));

  const roundTrip = async (ext: "jsonl" | "json" | "csv", text: string, yaml: string) => {
    const p = policy(yaml);
    const input = path.join(dir, `in.${ext}`);
    writeFileSync(input, text);
    const prot = path.join(dir, `prot.${ext}`);
    const back = path.join(dir, `back.${ext}`);
    const s1 = await runFields("apply", { policy: p, keyring: ks, input, output: prot });
    await runFields("reveal", { policy: p, keyring: ks, input: prot, output: back });
    return { s1, prot: readFileSync(prot, "utf8"), back: readFileSync(back, "utf8") };
  };

  it("jsonl", async () => {
    const { prot, back } = await roundTrip("jsonl", sample.map((r) => JSON.stringify(r)).join("\n") + "\n", POLICY_YAML);
    expect(prot).toContain("pse1:e:pii:1:");
    const rows = back
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows[0].ssn).toBe("123-45-6789");
    expect(rows[1].ssn).toBe(123456789);
    expect(rows[0].addr[1].street).toBe("2 Élysée 😀");
  });

  it("json array (streamed), including an empty array", async () => {
    const { back } = await roundTrip("json", JSON.stringify(sample, null, 2), POLICY_YAML);
    expect(JSON.parse(back)[0].card).toBe(sample[0]!.card);
    const empty = await roundTrip("json", "[ ]", POLICY_YAML);
    expect(JSON.parse(empty.back)).toEqual([]);
  });

  it("csv", async () => {
    const header = Object.keys(flatSample[0]!).join(",");
    const text =
      header +
      "\n" +
      flatSample
        .map((r) =>
          Object.values(r)
            .map((v) => JSON.stringify(v))
            .join(","),
        )
        .join("\n") +
      "\n";
    const { prot, back } = await roundTrip("csv", text, FLAT_YAML);
    expect(prot.split("\n")[0]).not.toContain("secret");
    expect(back).toContain("123-45-6789");
    expect(back).toContain("4111-1111-1111-1234");
  });

  it("csv malformed row: typed error with the row, or skipped and counted", async () => {
    const input = path.join(dir, "bad.csv");
    writeFileSync(input, "id,ssn\na,1\nb,2,extra\nc,3\n");
    const p = policy(FLAT_YAML);
    await expect(runFields("apply", { policy: p, keyring: ks, input, output: path.join(dir, "bad.out.csv") })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      row: 2,
    });
    const s = await runFields("apply", { policy: p, keyring: ks, input, output: path.join(dir, "bad.out2.csv"), onError: "skip" });
    expect(s.skipped).toBe(1);
    expect(s.rows).toBe(2);
  });

  it("jsonl malformed line: error names the row; skip counts it", async () => {
    const input = path.join(dir, "bad.jsonl");
    writeFileSync(input, '{"id":"a","ssn":"1"}\nnot json\n[1]\n{"id":"b","ssn":{"x":1}}\n{"id":"c","ssn":"3"}\n');
    await expect(runFields("apply", { policy: policy(), keyring: ks, input, output: path.join(dir, "o.jsonl") })).rejects.toMatchObject({ row: 2 });
    const s = await runFields("apply", { policy: policy(), keyring: ks, input, output: path.join(dir, "o2.jsonl"), onError: "skip" });
    expect([s.rows, s.skipped, s.errors.map((e) => e.row)]).toEqual([2, 3, [2, 3, 4]]);
  });

  it("parquet keeps types: tokenized integer stays integer, encrypted becomes string, reveal restores", async () => {
    const input = path.join(dir, "in.parquet");
    parquetWriteFile({
      filename: input,
      columnData: [
        { name: "id", data: ["a1", "a2", "a3"], type: "STRING" },
        { name: "n", data: [12345678n, 98765432101n, null], type: "INT64" },
        { name: "ssn", data: [123456789, 987654321, 5], type: "INT32" },
        { name: "email", data: ["a@x.io", "b@x.io", "a@x.io"], type: "STRING" },
        { name: "secret", data: ["s", "t", "u"], type: "STRING" },
      ],
    });
    const p = policy(FLAT_YAML);
    const prot = path.join(dir, "prot.parquet");
    const back = path.join(dir, "back.parquet");
    await runFields("apply", { policy: p, keyring: ks, input, output: prot });
    const buf = readFileSync(prot);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const md = parquetMetadata(ab);
    const types = Object.fromEntries(md.schema.slice(1).map((e) => [e.name, e.type]));
    expect(types).toEqual({ id: "BYTE_ARRAY", n: "INT64", ssn: "BYTE_ARRAY", email: "BYTE_ARRAY" });
    const rows = await parquetReadObjects({ file: ab });
    expect(typeof rows[0]!.n).toBe("bigint");
    expect(rows[0]!.n).not.toBe(12345678n);
    expect(rows[2]!.n).toBe(null);
    expect(rows[0]!.email).toBe(rows[2]!.email);
    await runFields("reveal", { policy: p, keyring: ks, input: prot, output: back });
    const b2 = readFileSync(back);
    const ab2 = b2.buffer.slice(b2.byteOffset, b2.byteOffset + b2.byteLength);
    expect(
      Object.fromEntries(
        parquetMetadata(ab2)
          .schema.slice(1)
          .map((e) => [e.name, e.type]),
      ),
    ).toMatchObject({ ssn: "INT32", n: "INT64" });
    const r2 = await parquetReadObjects({ file: ab2 });
    expect(r2.map((r) => [r.n, r.ssn, r.email])).toEqual([
      [12345678n, 123456789, "a@x.io"],
      [98765432101n, 987654321, "b@x.io"],
      [null, 5, "a@x.io"],
    ]);
  });
});

describe("fields: the built CLI", () => {
  it("apply twice in two processes: deterministic parts equal, randomized parts differ; reveal and check", async () => {
    const { home, dir } = await setup();
    const pol = writePolicy(dir);
    const input = path.join(dir, "c.jsonl");
    writeFileSync(input, sample.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const env = { ...process.env, PIPESEAL_HOME: home };
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: "utf8" });
    const a = run("fields", "apply", "--policy", pol, input);
    const b = run("fields", "apply", "--policy", pol, input);
    expect(a.status, a.stderr).toBe(0);
    const [ra, rb] = [JSON.parse(a.stdout.split("\n")[0]!), JSON.parse(b.stdout.split("\n")[0]!)];
    expect([ra.email, ra.card, ra.name, ra.n]).toEqual([rb.email, rb.card, rb.name, rb.n]);
    expect(ra.ssn).not.toBe(rb.ssn);
    const prot = path.join(dir, "p.jsonl");
    writeFileSync(prot, a.stdout);
    const rev = run("fields", "reveal", "--policy", pol, prot, "-o", "-");
    expect(rev.status, rev.stderr).toBe(0);
    expect(JSON.parse(rev.stdout.split("\n")[0]!).ssn).toBe("123-45-6789");
    const check = run("fields", "check", "--policy", pol, "--json", path.join(dir, "c.jsonl"));
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).findings).toEqual([]);
    writeFileSync(path.join(dir, "d.jsonl"), JSON.stringify({ id: "1", home_address: "1 Main St", contact: "bob@example.com", score: 3 }) + "\n");
    const found = run("fields", "check", "--policy", pol, "--json", path.join(dir, "d.jsonl"));
    expect(found.status, found.stderr).toBe(8); // EXIT.findings: uncovered PII-looking fields
    const c2 = JSON.parse(found.stdout);
    expect(c2.findings.map((f: { field: string }) => f.field).sort()).toEqual(["contact", "home_address"]);
    const human = run("fields", "check", "--policy", pol, path.join(dir, "d.jsonl"));
    expect(human.status).toBe(8);
    expect(human.stdout).toMatch(/2 uncovered field\(s\) look like personal data/);
    // a malformed protected value exits 6 (FIELD_MALFORMED), a flipped payload byte 3 (DECRYPT_FAILED)
    const first = JSON.parse(a.stdout.split("\n")[0]!) as Record<string, string>;
    const bad = path.join(dir, "bad.jsonl");
    writeFileSync(bad, JSON.stringify({ ...first, ssn: first.ssn!.replace("pse1:", "pse9:") }) + "\n");
    const malformed = run("fields", "reveal", "--policy", pol, bad);
    expect([malformed.status, malformed.stderr]).toEqual([6, expect.stringMatching(/row 1, field ssn: .*\[FIELD_MALFORMED\]/)]);
    const head = first.ssn!.slice(0, first.ssn!.lastIndexOf(":") + 1);
    const payload = Buffer.from(first.ssn!.slice(head.length), "base64url");
    payload[0]! ^= 0x80;
    writeFileSync(bad, JSON.stringify({ ...first, ssn: head + payload.toString("base64url") }) + "\n");
    const flipped = run("fields", "reveal", "--policy", pol, bad);
    expect([flipped.status, flipped.stderr]).toEqual([3, expect.stringMatching(/DECRYPT_FAILED/)]);
    expect(flipped.stderr + malformed.stderr).not.toContain("123-45-6789");
    const stdin = spawnSync(process.execPath, [CLI, "fields", "apply", "--policy", pol, "--format", "jsonl", "-"], {
      env,
      encoding: "utf8",
      input: JSON.stringify(sample[1]) + "\n",
    });
    expect(JSON.parse(stdin.stdout).email).toBe(rb.email);
    const audit = run("audit", "list", "--json");
    expect(audit.stdout).toContain("field-reveal");
  });
});
