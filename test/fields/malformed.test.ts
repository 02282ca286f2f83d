// FIELD_MALFORMED vs DECRYPT_FAILED on reveal and rewrap, and rewrap of subject-keyed values.
import { describe, expect, it } from "vitest";
import { FieldProtector, parseFieldPolicy, parseValue } from "../../src/fields/index.js";
import { ERASED_MARKER } from "../../src/fields/protector.js";
import { subjectKeys } from "../../src/fields/subjects/index.js";
import { readValue } from "../../src/fields/value-format.js";
import { freshKeystore } from "../helpers/keystore.js";
import { policy, sample } from "./helpers.js";

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
type Rec = Record<string, unknown>;

async function protectedRecord() {
  const { ks } = await freshKeystore(["pii", "tok"]);
  const r = await new FieldProtector(policy(), ks, "apply", { flat: false }).process(clone(sample[0]!) as Rec, 1);
  const by = { reveal: new FieldProtector(policy(), ks, "reveal", { flat: false }), rewrap: new FieldProtector(policy(), ks, "rewrap", { flat: false }) };
  const attempt = (op: "reveal" | "rewrap", field: string, value: unknown) => by[op].process({ ...clone(r), [field]: value }, 1);
  return { ks, r, attempt };
}

const split = (v: string) => {
  const i = v.lastIndexOf(":") + 1;
  return { head: v.slice(0, i), payload: Buffer.from(v.slice(i), "base64url") };
};

describe("fields: malformed values are FIELD_MALFORMED, failed authentication DECRYPT_FAILED", () => {
  it("structure errors on reveal and rewrap, for encrypt and deterministic fields", async () => {
    const { r, attempt } = await protectedRecord();
    for (const field of ["ssn", "email"]) {
      const v = r[field] as string;
      const { head, payload } = split(v);
      const malformed: Record<string, unknown> = {
        "plain text": "123-45-6789",
        "a number": 123456789,
        "unknown format version": v.replace(/^pse1:/, "pse2:"),
        "unknown action": v.replace(/^pse1:[ed]:/, "pse1:x:"),
        "bad key reference": v.replace(/^(pse1:[ed]:)pii/, "$1PII"),
        "version 0": head.replace(/:1:$/, ":0:") + payload.toString("base64url"),
        "version past 2^32-1": head.replace(/:1:$/, ":4294967296:") + payload.toString("base64url"),
        "version not a number": head.replace(/:1:$/, ":one:") + payload.toString("base64url"),
        "bad base64 character": head + "!" + payload.toString("base64url").slice(1),
        "padded base64": head + payload.toString("base64") + "=",
        "truncated to the prefix": head,
        "truncated to 1 mod 4 characters": v.slice(0, v.length - ((v.length - head.length) % 4) - 3),
        "truncated below iv+tag": head + payload.subarray(0, 16).toString("base64url"),
        "no payload separator": v.replace(/:([^:]*)$/, "$1"),
      };
      for (const [what, value] of Object.entries(malformed)) {
        for (const op of ["reveal", "rewrap"] as const) {
          await expect(attempt(op, field, value), `${field} ${what} (${op})`).rejects.toMatchObject({ code: "FIELD_MALFORMED", row: 1, field });
        }
      }
    }
  });

  it("non-canonical base64url (non-zero pad bits) is malformed, so one value has one spelling", () => {
    const v = "pse1:e:pii:1:" + Buffer.alloc(31, 7).toString("base64url"); // 31 bytes: 2 pad bits in the last character
    expect(readValue(v, {}).payload).toHaveLength(31);
    const last = v.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = v.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
    expect(Buffer.from(twin.slice(13), "base64url")).toEqual(Buffer.from(v.slice(13), "base64url")); // the lenient decoder reads both the same
    expect(() => readValue(twin, { row: 3, field: "f" })).toThrow(expect.objectContaining({ code: "FIELD_MALFORMED", row: 3, field: "f" }));
    expect(parseValue(twin)).toBeNull();
  });

  it("every single-bit flip of a payload is DECRYPT_FAILED, never FIELD_MALFORMED", async () => {
    const { r, attempt } = await protectedRecord();
    for (const field of ["ssn", "email"]) {
      const { head, payload } = split(r[field] as string);
      for (let bit = 0; bit < payload.length * 8; bit++) {
        const p = Buffer.from(payload);
        p[bit >> 3]! ^= 1 << (bit & 7);
        await expect(attempt("reveal", field, head + p.toString("base64url")), `${field} bit ${bit}`).rejects.toMatchObject({ code: "DECRYPT_FAILED", field });
      }
      // truncated by whole bytes but still well-formed: the tag fails
      await expect(attempt("reveal", field, head + payload.subarray(0, payload.length - 3).toString("base64url"))).rejects.toMatchObject({
        code: "DECRYPT_FAILED",
      });
    }
  });

  it("a well-formed value of the other action, moved here, is DECRYPT_FAILED; messages hold no value", async () => {
    const { r, attempt } = await protectedRecord();
    await expect(attempt("reveal", "ssn", r.email)).rejects.toMatchObject({ code: "DECRYPT_FAILED", field: "ssn" });
    const e = await attempt("reveal", "ssn", "123-45-6789").catch((x: Error) => x);
    expect((e as Error).message).not.toContain("123-45-6789");
    expect((e as Error).message).toMatch(/^row 1, field ssn: /);
  });
});

const SUBJECT_YAML = (subject: boolean) => `version: 1
namespace: customers
key: pii
recordId: id
rules:
  - { field: email, action: deterministic${subject ? ", subject: cid" : ""} }
  - { field: ssn, action: encrypt${subject ? ", subject: cid" : ""} }
  - { field: cid, action: keep }
`;

describe("fields rewrap: subject-keyed values", () => {
  const rows = [
    { id: "r1", cid: "alice", email: "alice@example.com", ssn: "111-11-1111" },
    { id: "r2", cid: "bob", email: "bob@example.com", ssn: "222-22-2222" },
  ];
  const run = async (ks: Awaited<ReturnType<typeof freshKeystore>>["ks"], yaml: string, op: "apply" | "reveal" | "rewrap", recs: Rec[]) => {
    const p = new FieldProtector(parseFieldPolicy(yaml), ks, op, { flat: false });
    const out: Rec[] = [];
    for (const [i, r] of recs.entries()) out.push(await p.process(clone(r), i + 1));
    p.close();
    return { out, stats: p.stats };
  };

  it("named → subject keys and back follow the policy; an erased subject's values become the marker, the run goes on", async () => {
    const { ks } = await freshKeystore(["pii"]);
    const named = await run(ks, SUBJECT_YAML(false), "apply", rows);
    // the policy now seals these fields per subject: rewrap moves them onto the subject keys
    const moved = await run(ks, SUBJECT_YAML(true), "rewrap", named.out);
    for (const r of moved.out) {
      expect(parseValue(r.ssn)!.keyRef).toMatch(/^@customers~/);
      expect(parseValue(r.email)!.keyRef).toMatch(/^@customers~/);
    }
    expect(parseValue(moved.out[0]!.ssn)!.keyRef).not.toBe(parseValue(moved.out[1]!.ssn)!.keyRef);
    expect((await run(ks, SUBJECT_YAML(true), "reveal", moved.out)).out).toEqual(rows);
    // already under the right subject key: unchanged
    const again = await run(ks, SUBJECT_YAML(true), "rewrap", moved.out);
    expect(again.out).toEqual(moved.out);
    expect(again.stats.values.rewrap ?? 0).toBe(0);
    // bob is erased: his values become the marker, alice's stay, no error for the file
    await subjectKeys(ks).erase("customers", "bob");
    const afterErase = await run(ks, SUBJECT_YAML(true), "rewrap", moved.out);
    expect(afterErase.out[0]).toEqual(moved.out[0]);
    expect(afterErase.out[1]).toMatchObject({ ssn: ERASED_MARKER, email: ERASED_MARKER, cid: "bob" });
    expect(afterErase.stats.erased).toBe(2);
    // named-key values of an erased subject under a subject rule are not carried over either
    const fromNamed = await run(ks, SUBJECT_YAML(true), "rewrap", named.out);
    expect(fromNamed.out[1]).toMatchObject({ ssn: ERASED_MARKER, email: ERASED_MARKER });
    expect(parseValue(fromNamed.out[0]!.ssn)!.keyRef).toMatch(/^@customers~/);
    // and back to the named key when the policy drops `subject:` (alice only; bob stays erased)
    const back = await run(ks, SUBJECT_YAML(false), "rewrap", afterErase.out.slice(0, 1));
    expect(parseValue(back.out[0]!.ssn)).toMatchObject({ keyRef: "pii", version: 1 });
    expect((await run(ks, SUBJECT_YAML(false), "reveal", back.out)).out).toEqual([rows[0]]);
    const erasedBack = await run(ks, SUBJECT_YAML(false), "rewrap", [moved.out[1]!]);
    expect(erasedBack.out[0]).toMatchObject({ ssn: ERASED_MARKER, email: ERASED_MARKER });
  });

  it("a recreated subject: values under the erased version stay erased, new ones rewrap in place", async () => {
    const { ks } = await freshKeystore(["pii"]);
    const first = await run(ks, SUBJECT_YAML(true), "apply", rows);
    await subjectKeys(ks).erase("customers", "bob");
    await subjectKeys(ks).recreate("customers", "bob");
    const fresh = await run(ks, SUBJECT_YAML(true), "apply", [rows[1]!]);
    expect(parseValue(fresh.out[0]!.ssn)!.version).toBe(2);
    const rw = await run(ks, SUBJECT_YAML(true), "rewrap", [first.out[1]!, fresh.out[0]!]);
    expect(rw.out[0]).toMatchObject({ ssn: ERASED_MARKER, email: ERASED_MARKER });
    expect(rw.out[1]).toEqual(fresh.out[0]);
    expect(rw.stats.erased).toBe(2);
  });
});

describe("fields rewrap: protected anchors in any order", () => {
  // the record id and a subject id are both sealed deterministically; rewrap must read the
  // record id's plaintext whichever of the two rules the policy lists first
  const yaml = (first: "cid" | "id") => {
    const rules = { cid: "  - { field: cid, action: deterministic }", id: "  - { field: id, action: deterministic }" };
    const second = first === "cid" ? "id" : "cid";
    return `version: 1\nnamespace: customers\nkey: pii\nrecordId: id\nrules:\n${rules[first]}\n${rules[second]}\n  - { field: ssn, action: encrypt, subject: cid }\n  - { field: note, action: encrypt }\n`;
  };
  const row = { id: "r1", cid: "alice", ssn: "111-11-1111", note: "hello" };

  for (const first of ["cid", "id"] as const) {
    it(`rotate, rewrap, reveal with ${first} listed first`, async () => {
      const { ks } = await freshKeystore(["pii"]);
      const p = (op: "apply" | "reveal" | "rewrap") => new FieldProtector(parseFieldPolicy(yaml(first)), ks, op, { flat: false });
      const sealed = await p("apply").process(clone(row), 1);
      expect(sealed.id).not.toBe("r1");
      ks.rotateKey("pii");
      const moved = await p("rewrap").process(clone(sealed), 1);
      expect(parseValue(moved.note)!.version).toBe(2);
      expect(parseValue(moved.id)!.version).toBe(2);
      expect(await p("reveal").process(clone(moved), 1)).toEqual(row);
      // and a value moved to another record (another id) still fails: the id is bound
      const other = await p("apply").process({ ...clone(row), id: "r2" }, 2);
      await expect(p("reveal").process({ ...clone(moved), note: other.note }, 1)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    });
  }
});
