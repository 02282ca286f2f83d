/**
 * Format v2 key-block attacks on a keystore whose root key is in an HSM (SoftHSM2): the same
 * binding rules run (src/keys/bound-wrap.ts), so every attack releases no key and leaves no
 * `ok` record, and a v1 file upgrades without touching its body.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { decodeHeader } from "../../src/envelope/header.js";
import { rewrapFile } from "../../src/envelope/rewrap.js";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import type { AuditObject, EncryptionContext, WrappedKey } from "../../src/keys/keyring.js";
import { keyBlockAttacks } from "../helpers/key-block-attacks.js";
import { tempDir } from "../helpers/keystore.js";
import { sealV1 } from "../helpers/seal-v1.js";
import { type SoftHsm, createSoftHsm, softhsmAvailable } from "../helpers/softhsm.js";

const available = softhsmAvailable();
const PIN = "1234";
const context = { dataset: "users" };

it("has SoftHSM2 (run scripts/setup.sh)", () => expect(available).toBe(true));

describe.skipIf(!available)("sealed file v2 on an HSM-rooted keystore (SoftHSM2)", () => {
  let hsm: SoftHsm;
  let ks: LocalKeystore;
  let released = 0;
  const dir = tempDir();
  beforeAll(async () => {
    hsm = createSoftHsm();
    hsm.initToken("ks-v2", PIN);
    const home = path.join(dir, "ks");
    await initKeystore(home, { root: { pkcs11: { module: hsm.module, token: "ks-v2", pin: PIN } }, principal: "admin" });
    ks = await openKeystore(home, { pkcs11: { pin: PIN }, principal: "tester" });
    for (const k of ["keys/a", "keys/b", "keys/other"]) ks.createKey(k);
    ks.rotateKey("keys/a");
  });
  afterAll(() => {
    ks?.close();
    hsm?.cleanup();
  });
  const spy = () => ({
    id: ks.id,
    wrap: (n: string, k: Uint8Array, c: EncryptionContext, id?: Uint8Array) => ks.wrap(n, k, c, id),
    async unwrap(e: WrappedKey, c: EncryptionContext, o: AuditObject) {
      const key = await ks.unwrap(e, c, o);
      released++;
      return key;
    },
    rewrap: ks.rewrap.bind(ks),
    deriveFieldKey: ks.deriveFieldKey.bind(ks),
  });

  it("every key-block attack: no key released, no ok record", async () => {
    const kr = spy();
    const data = randomBytes(2000);
    const victim = await sealBuffer(kr, data, { keyName: ["keys/a", "keys/b"], context, segmentSize: 512 });
    const other = await sealBuffer(kr, randomBytes(2000), { keyName: ["keys/a", "keys/b"], context, segmentSize: 512 });
    expect((await openBuffer(kr, victim)).equals(data)).toBe(true);
    const before = ks.listAudit().at(-1)!.seq;
    const count = released;
    for (const attack of keyBlockAttacks(victim, other, { keyName: "keys/other", keyVersion: 1 })) {
      const error = await openBuffer(kr, attack.file).then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      expect(error, attack.name).not.toBeNull();
      if (attack.code) expect(error!.code, attack.name).toBe(attack.code);
    }
    expect(released).toBe(count);
    expect(ks.listAudit().filter((r) => r.seq > before && r.outcome === "ok")).toEqual([]);
  });

  it("rewrap --upgrade of a v1 file: v2, FLOE header and body byte for byte, same plaintext", async () => {
    const kr = spy();
    const data = randomBytes(1500);
    const v1 = await sealV1(ks, data, { keyNames: ["keys/a", "keys/b"], context, segmentSize: 512 });
    const file = path.join(dir, "v1.pseal");
    writeFileSync(file, v1);
    expect(await rewrapFile(kr, file, { upgrade: true })).toMatchObject({ upgraded: true });
    const up = readFileSync(file);
    const h0 = decodeHeader(v1);
    const h1 = decodeHeader(up);
    expect(h1.formatVersion).toBe(2);
    expect(h1.floeHeader.equals(h0.floeHeader)).toBe(true);
    expect(up.subarray(h1.length).equals(v1.subarray(h0.length))).toBe(true);
    expect((await openBuffer(kr, up)).equals(data)).toBe(true);
  });
});
