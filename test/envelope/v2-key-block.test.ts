/**
 * Format v2 (issue 19 part 1): the key block is bound to its file and authenticated as a whole.
 * Every attack on the key block fails with no key released by the keyring and no `ok` record in
 * the audit; a corrupted unused entry is KEY_BLOCK_INVALID at open and at rewrap; v1 files still
 * open, rewrap keeps them v1, and rewrap --upgrade makes them v2 with the FLOE header and body
 * byte for byte.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { decodeHeader, encodeKeyBlock } from "../../src/envelope/header.js";
import { SealedFileReader } from "../../src/envelope/reader.js";
import { rewrapFile } from "../../src/envelope/rewrap.js";
import { headerHash } from "../../src/envelope/unlock.js";
import type { LocalKeystore } from "../../src/keys/index.js";
import type { AuditObject, EncryptionContext, Keyring, WrappedKey } from "../../src/keys/keyring.js";
import { keyBlockAttacks, withEntries } from "../helpers/key-block-attacks.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { sealV1 } from "../helpers/seal-v1.js";

const context = { dataset: "customers", stage: "landing" };

/** The keystore, counting every data key it actually hands out. */
function counting(ks: LocalKeystore): Keyring & { released: number } {
  const spy = {
    released: 0,
    id: ks.id,
    wrap: (n: string, k: Uint8Array, c: EncryptionContext, id?: Uint8Array) => ks.wrap(n, k, c, id),
    async unwrap(e: WrappedKey, c: EncryptionContext, o: AuditObject) {
      const key = await ks.unwrap(e, c, o);
      spy.released++;
      return key;
    },
    rewrap: ks.rewrap.bind(ks),
    deriveFieldKey: ks.deriveFieldKey.bind(ks),
    reportFailure: ks.reportFailure.bind(ks),
  };
  return spy;
}

const lastSeq = (ks: LocalKeystore) => ks.listAudit().at(-1)?.seq ?? 0;
const oksSince = (ks: LocalKeystore, seq: number) => ks.listAudit().filter((r) => r.seq > seq && r.outcome === "ok");

describe("sealed file v2: key-block attacks (local keystore)", async () => {
  const { ks } = await freshKeystore(["keys/a", "keys/b", "keys/other"]);
  ks.rotateKey("keys/a"); // keys/a v2 is primary; v1 exists, to retarget an entry's version
  const kr = counting(ks);
  const data = randomBytes(3000);
  const victim = await sealBuffer(kr, data, { keyName: ["keys/a", "keys/b"], context, segmentSize: 1024 });
  const other = await sealBuffer(kr, randomBytes(3000), { keyName: ["keys/a", "keys/b"], context, segmentSize: 1024 });

  it("new files are v2; every entry is bound and tagged; the audit's object id is the file's", async () => {
    const h = decodeHeader(victim);
    expect(h.formatVersion).toBe(2);
    expect(victim[5]).toBe(2);
    expect(h.wrappedKeys.map((e) => e.tag?.length)).toEqual([32, 32]);
    const before = lastSeq(ks);
    expect((await openBuffer(kr, victim)).equals(data)).toBe(true);
    const ok = oksSince(ks, before);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.headerHash).toBe(headerHash(h));
  });

  for (const attack of keyBlockAttacks(victim, other, { keyName: "keys/other", keyVersion: 1 })) {
    it(`refuses ${attack.name}: no key released, no ok record`, async () => {
      const before = lastSeq(ks);
      const released = kr.released;
      const error = await openBuffer(kr, attack.file).then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      expect(error).not.toBeNull();
      if (attack.code) expect(error!.code).toBe(attack.code);
      expect(kr.released).toBe(released);
      expect(oksSince(ks, before)).toEqual([]);
      const records = ks.listAudit().filter((r) => r.seq > before);
      // what was tried is on record, as a failure (or nothing, if no entry could even be tried)
      for (const r of records) expect(["denied", "error"]).toContain(r.outcome);
    });
  }

  it("an entry lifted into a file of another context, key or content does not unwrap either (the wrap names its object id)", async () => {
    const third = await sealBuffer(kr, randomBytes(10), { keyName: ["keys/a", "keys/b"], context: { dataset: "other" } });
    const v = decodeHeader(victim).wrappedKeys;
    const forged = withEntries(
      third,
      v.map((e) => ({ keyring: e.keyring, keyName: e.keyName, keyVersion: e.keyVersion, wrapped: e.wrapped, tag: e.tag! })),
    );
    const before = lastSeq(ks);
    await expect(openBuffer(kr, forged)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    expect(oksSince(ks, before)).toEqual([]);
  });

  it("a corrupted unused entry is found by rewrap too: KEY_BLOCK_INVALID, the file is not written, no rewrap ok", async () => {
    const dir = tempDir();
    const file = path.join(dir, "corrupt.pseal");
    const v = decodeHeader(victim).wrappedKeys.map((e) => ({
      keyring: e.keyring,
      keyName: e.keyName,
      keyVersion: e.keyVersion,
      wrapped: Buffer.from(e.wrapped),
      tag: e.tag!,
    }));
    v[1]!.wrapped[30] ^= 0x80;
    const corrupt = withEntries(victim, v);
    writeFileSync(file, corrupt);
    const before = lastSeq(ks);
    await expect(rewrapFile(kr, file)).rejects.toMatchObject({ code: "KEY_BLOCK_INVALID" });
    expect(readFileSync(file).equals(corrupt)).toBe(true);
    expect(oksSince(ks, before)).toEqual([]);
    expect(
      ks
        .listAudit()
        .filter((r) => r.seq > before)
        .map((r) => [r.operation, r.outcome, r.errorCode]),
    ).toContainEqual(["rewrap", "error", "KEY_BLOCK_INVALID"]);
  });

  it("a v2 entry presented without its binding (as a v1 entry) does not unwrap: the v1 AAD cannot open a v2 wrap", async () => {
    const e = decodeHeader(victim).wrappedKeys[0]!;
    const before = lastSeq(ks);
    await expect(
      ks.unwrap({ keyring: e.keyring, keyName: e.keyName, keyVersion: e.keyVersion, wrapped: e.wrapped }, context, { operation: "decrypt" }),
    ).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    expect(oksSince(ks, before)).toEqual([]);
  });

  it("rewrap of a v2 file moves its entries, keeps FLOE header and body byte for byte, and the result still authenticates as a whole", async () => {
    const dir = tempDir();
    const file = path.join(dir, "v2.pseal");
    writeFileSync(file, victim);
    ks.rotateKey("keys/b");
    const r = await rewrapFile(kr, file);
    expect(r.changes.map((c) => `${c.keyName} ${c.from}->${c.to}`)).toEqual(["keys/a 2->2", "keys/b 1->2"]);
    const after = readFileSync(file);
    const h0 = decodeHeader(victim);
    const h1 = decodeHeader(after);
    expect(h1.formatVersion).toBe(2);
    expect(after.subarray(h1.length).equals(victim.subarray(h0.length))).toBe(true);
    expect(h1.floeHeader.equals(h0.floeHeader) && h1.fixedPart.equals(h0.fixedPart)).toBe(true);
    expect(headerHash(h1)).toBe(headerHash(h0));
    expect((await openBuffer(kr, after)).equals(data)).toBe(true);
    // the rewrapped block is authenticated like a fresh one: dropping an entry still fails
    const dropped = withEntries(
      after,
      [h1.wrappedKeys[0]!].map((e) => ({ ...e, tag: e.tag! })),
    );
    await expect(openBuffer(kr, dropped)).rejects.toMatchObject({ code: "KEY_BLOCK_INVALID" });
  });
});

describe("v1 files: read forever, rewrap keeps v1, rewrap --upgrade makes v2 without touching the body", async () => {
  const { ks } = await freshKeystore(["keys/a", "keys/b"]);
  const kr = counting(ks);
  const dir = tempDir();
  const data = randomBytes(5000);
  const v1 = await sealV1(ks, data, { keyNames: ["keys/a", "keys/b"], context, segmentSize: 1000 });

  it("a v1 file opens, whole and by range", async () => {
    expect(v1[5]).toBe(1);
    expect((await openBuffer(kr, v1)).equals(data)).toBe(true);
    const file = path.join(dir, "ranged.pseal");
    writeFileSync(file, v1);
    const reader = await SealedFileReader.open(kr, file);
    try {
      expect((await reader.read(1500, 2000)).equals(data.subarray(1500, 3500))).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it("plain rewrap keeps a v1 file v1", async () => {
    const file = path.join(dir, "stays.pseal");
    writeFileSync(file, v1);
    ks.rotateKey("keys/a");
    const r = await rewrapFile(kr, file);
    expect(r).toMatchObject({ written: true, formatVersion: 1, upgraded: false });
    expect(readFileSync(file)[5]).toBe(1);
    expect((await openBuffer(kr, readFileSync(file))).equals(data)).toBe(true);
  });

  it("--upgrade: version byte 02, v2 entries bound to the file, same FLOE header, body and object id; plaintext unchanged", async () => {
    const file = path.join(dir, "up.pseal");
    writeFileSync(file, v1);
    const before = lastSeq(ks);
    const r = await rewrapFile(kr, file, { upgrade: true });
    expect(r).toMatchObject({ written: true, formatVersion: 2, upgraded: true });
    const up = readFileSync(file);
    const h0 = decodeHeader(v1);
    const h1 = decodeHeader(up);
    expect(h1.formatVersion).toBe(2);
    expect(h1.floeHeader.equals(h0.floeHeader)).toBe(true);
    expect(up.subarray(h1.length).equals(v1.subarray(h0.length))).toBe(true);
    expect(h1.fixedPart.subarray(6).equals(h0.fixedPart.subarray(6))).toBe(true);
    expect(headerHash(h1)).toBe(headerHash(h0));
    const recs = ks.listAudit().filter((x) => x.seq > before);
    expect(recs.map((x) => [x.operation, x.outcome, x.headerHash])).toEqual([
      ["rewrap", "ok", headerHash(h0)],
      ["rewrap", "ok", headerHash(h0)],
    ]);
    expect((await openBuffer(kr, up)).equals(data)).toBe(true);
    // and it is now a v2 file in every respect: its key block is authenticated
    const reordered = withEntries(
      up,
      [h1.wrappedKeys[1]!, h1.wrappedKeys[0]!].map((e) => ({ ...e, tag: e.tag! })),
    );
    const released = kr.released;
    await expect(openBuffer(kr, reordered)).rejects.toMatchObject({ code: "KEY_BLOCK_INVALID" });
    expect(kr.released).toBe(released);
    // upgrading again is a plain rewrap
    expect(await rewrapFile(kr, file, { upgrade: true })).toMatchObject({ formatVersion: 2, upgraded: false });
  });

  it("--upgrade refuses a file with an entry of another keyring, and writes nothing", async () => {
    const file = path.join(dir, "mixed.pseal");
    const h = decodeHeader(v1);
    const mixed = Buffer.concat([
      h.fixedPart,
      encodeKeyBlock([h.wrappedKeys[0]!, { ...h.wrappedKeys[1]!, keyring: "ks:elsewhere" }], 1),
      h.floeHeader,
      v1.subarray(h.length),
    ]);
    writeFileSync(file, mixed);
    const before = lastSeq(ks);
    await expect(rewrapFile(kr, file, { upgrade: true })).rejects.toMatchObject({ code: "KEYRING_MISMATCH" });
    expect(readFileSync(file).equals(mixed)).toBe(true);
    expect(oksSince(ks, before)).toEqual([]);
  });

  it("--upgrade with an entry that cannot be rewrapped writes nothing, and each rewrap ok is followed by its error", async () => {
    const file = path.join(dir, "stuck.pseal");
    const h = decodeHeader(v1);
    const broken = Buffer.from(h.wrappedKeys[1]!.wrapped);
    broken[15] ^= 1;
    const bad = Buffer.concat([
      h.fixedPart,
      encodeKeyBlock([h.wrappedKeys[0]!, { ...h.wrappedKeys[1]!, wrapped: broken }], 1),
      h.floeHeader,
      v1.subarray(h.length),
    ]);
    writeFileSync(file, bad);
    const before = lastSeq(ks);
    await expect(rewrapFile(kr, file, { upgrade: true })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    expect(readFileSync(file).equals(bad)).toBe(true);
    const recs = ks
      .listAudit()
      .filter((x) => x.seq > before)
      .map((x) => [x.keyName, x.outcome, x.errorCode]);
    expect(recs).toEqual([
      ["keys/a", "ok", null],
      ["keys/b", "error", "DECRYPT_FAILED"],
      ["keys/a", "error", "DECRYPT_FAILED"],
    ]);
  });
});
