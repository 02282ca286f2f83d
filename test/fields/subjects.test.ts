import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { isErased, subjectKey, subjectKeys, type SubjectKey } from "../../src/fields/subjects/index.js";
import { freshKeystore } from "../helpers/keystore.js";

function live(r: unknown): SubjectKey {
  if (isErased(r as SubjectKey)) throw new Error("unexpectedly erased");
  return r as SubjectKey;
}

describe("subject keys", () => {
  it("are stable, 32 bytes, and differ per subject, namespace and purpose", async () => {
    const { ks } = await freshKeystore([]);
    const a = live(await subjectKey(ks, "customers", "cust-1", "fields/email"));
    const a2 = live(await subjectKey(ks, "customers", "cust-1", "fields/email"));
    expect(a.key.length).toBe(32);
    expect(a.key.equals(a2.key)).toBe(true);
    expect(a.version).toBe(1);
    expect(a.keyId).toMatch(/^customers:[A-Za-z0-9_-]{22}$/);
    const others = [
      live(await subjectKey(ks, "customers", "cust-2", "fields/email")),
      live(await subjectKey(ks, "patients", "cust-1", "fields/email")),
      live(await subjectKey(ks, "customers", "cust-1", "fields/phone")),
    ];
    for (const o of others) expect(o.key.equals(a.key)).toBe(false);
    expect(others[2]?.keyId).toBe(a.keyId); // same subject, other purpose
  });

  it("survive closing and reopening the keystore, and are found by keyId", async () => {
    const { ks, home } = await freshKeystore([]);
    const a = live(await subjectKey(ks, "customers", "cust-9", "p"));
    const ks2 = await openKeystore(home, { principal: "other" });
    try {
      const b = live(await subjectKey(ks2, "customers", "cust-9", "p"));
      expect(b.key.equals(a.key)).toBe(true);
      const c = live(await subjectKeys(ks2).keyByRef(a.keyId, 1, "p"));
      expect(c.key.equals(a.key)).toBe(true);
    } finally {
      ks2.close();
    }
  });

  it("erase: erased forever, other subjects untouched, audited, recreate is explicit", async () => {
    const { ks, home } = await freshKeystore([]);
    const keys = subjectKeys(ks);
    const bob = live(await keys.key("customers", "bob@example.com", "p"));
    const alice = live(await keys.key("customers", "alice@example.com", "p"));
    const sealedBefore = ks.readTables((db) => db.prepare("SELECT secret FROM subject_keys WHERE state = 'active'").all() as { secret: Buffer }[]);
    const r = await keys.erase("customers", "bob@example.com");
    expect(r).toMatchObject({ keyId: bob.keyId, alreadyErased: false, walTruncated: true });
    expect(await keys.key("customers", "bob@example.com", "p")).toEqual({ erased: true, keyId: bob.keyId });
    expect(await keys.keyByRef(bob.keyId, 1, "p")).toEqual({ erased: true, keyId: bob.keyId });
    expect(live(await keys.key("customers", "alice@example.com", "p")).key.equals(alice.key)).toBe(true);
    expect((await keys.erase("customers", "bob@example.com")).alreadyErased).toBe(true);
    // another handle sees the erasure too
    const ks2 = await openKeystore(home);
    try {
      expect(await subjectKey(ks2, "customers", "bob@example.com", "p")).toEqual({ erased: true, keyId: bob.keyId });
      expect((await subjectKeys(ks2).status("customers", "bob@example.com")).state).toBe("erased");
    } finally {
      ks2.close();
    }
    const audit = ks.listAudit().filter((a) => a.operation === "subject.erase");
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ principal: "tester", outcome: "ok", objectPath: `subject:${bob.keyId}` });
    // the bytes: no clear subject id, no sealed secret of bob left
    const bytes = Buffer.concat([readFileSync(path.join(home, "keystore.db"))]);
    expect(bytes.includes(Buffer.from("bob@example.com"))).toBe(false);
    expect(bytes.includes(Buffer.from("alice@example.com"))).toBe(false);
    const stillThere = sealedBefore.filter((s) => bytes.includes(s.secret));
    expect(stillThere).toHaveLength(1); // alice's only
    // recreation is an explicit, audited choice with a new version
    const again = await keys.recreate("customers", "bob@example.com");
    expect(again.version).toBe(2);
    const bob2 = live(await keys.key("customers", "bob@example.com", "p"));
    expect(bob2.version).toBe(2);
    expect(bob2.key.equals(bob.key)).toBe(false);
    expect(await keys.keyByRef(bob.keyId, 1, "p")).toEqual({ erased: true, keyId: bob.keyId });
    await expect(keys.recreate("customers", "alice@example.com")).rejects.toMatchObject({ code: "KEY_STATE_CONFLICT" });
  });
});
