/**
 * The HSM root key (src/keys/pkcs11) against a throwaway SoftHSM2 token: a full keystore
 * round trip, non-extractability of the root, no root material in the keystore files,
 * typed errors, and the keystore cannot be opened without its HSM.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeystoreError } from "../../src/errors.js";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { Pkcs11RootKey, describeKeystoreRoot, readPkcs11Pin } from "../../src/keys/pkcs11/index.js";
import { tempDir } from "../helpers/keystore.js";
import { type SoftHsm, createSoftHsm, softhsmAvailable } from "../helpers/softhsm.js";

const require = createRequire(import.meta.url);
const available = softhsmAvailable();
const PIN = "1234";
const ctx = { dataset: "users" };
const obj = { operation: "decrypt", path: "users.sealed" } as const;

async function code(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  throw new Error("expected a throw");
}

// a missing SoftHSM2 fails the run (never a silent skip): scripts/setup.sh installs it
it("has SoftHSM2 (run scripts/setup.sh)", () => expect(available).toBe(true));

describe.skipIf(!available)("HSM root key (SoftHSM2)", () => {
  let hsm: SoftHsm;
  beforeAll(() => {
    hsm = createSoftHsm();
    // every token up front: SoftHSM2 reads its config when the module is initialised
    for (const label of ["ks-main", "ks-raw", "ks-files", "ks-errors", "ks-other", "ks-state"]) hsm.initToken(label, PIN);
  });
  afterAll(() => hsm?.cleanup());
  const login = (token: string, extra: object = {}) => ({ module: hsm.module, token, pin: PIN, ...extra });

  it("write access to keystore.db does not re-enable a version: the key state is MAC'd under a key derived in the token", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home, { root: { pkcs11: login("ks-state") }, principal: "admin" });
    const ks = await openKeystore(home, { pkcs11: { pin: PIN }, principal: "tester" });
    try {
      ks.createKey("k");
      const e1 = await ks.wrap("k", Buffer.alloc(32, 1), ctx);
      ks.rotateKey("k");
      ks.disableVersion("k", 1);
      const db = new Database(path.join(home, "keystore.db"));
      db.prepare("UPDATE key_versions SET state = 'enabled' WHERE version = 1").run();
      db.close();
      expect(await code(() => ks.unwrap(e1, ctx, obj))).toBe("KEYSTORE_CORRUPT");
      expect(await code(() => ks.showKey("k"))).toBe("KEYSTORE_CORRUPT");
      expect(ks.verifyKeyState()).toMatchObject({ ok: false, problems: [{ keyName: "k", version: 1 }] });
    } finally {
      ks.close();
    }
  });

  it("round trip: create, wrap, unwrap, rotate, rewrap, audit verify, reopen", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home, { root: { pkcs11: login("ks-main") }, principal: "admin" });
    expect(describeKeystoreRoot(home)).toMatchObject({ source: "pkcs11", pkcs11: { token: "ks-main", keyLabel: "pipeseal-root", slot: null } });
    const ks = await openKeystore(home, { pkcs11: { pin: PIN }, principal: "tester" });
    ks.createKey("datasets/pii");
    const dk = Buffer.alloc(32, 7);
    const e1 = await ks.wrap("datasets/pii", dk, ctx);
    expect((await ks.unwrap(e1, ctx, obj)).equals(dk)).toBe(true);
    ks.rotateKey("datasets/pii");
    const e2 = await ks.rewrap(e1, ctx, obj);
    expect(e2.keyVersion).toBe(2);
    expect((await ks.unwrap(e2, ctx, obj)).equals(dk)).toBe(true);
    expect(ks.verifyAudit()).toMatchObject({ ok: true });
    expect(ks.listAudit().map((r) => r.operation)).toContain("init");
    // a second handle in the same process shares the login; closing one leaves the other working
    const ks2 = await openKeystore(home, { pkcs11: { pin: PIN } });
    ks.close();
    expect((await ks2.unwrap(e1, ctx, obj)).equals(dk)).toBe(true);
    expect(ks2.verifyAudit().ok).toBe(true);
    ks2.close();
    const ks3 = await openKeystore(home, { pkcs11: { pin: PIN } });
    expect((await ks3.unwrap(e2, ctx, obj)).equals(dk)).toBe(true);
    // an edited KEK row is KEYSTORE_CORRUPT, not an HSM failure
    ks3.close();
    const db = new Database(path.join(home, "keystore.db"));
    const row = db.prepare("SELECT kek FROM key_versions WHERE key_name = ? AND version = 2").get("datasets/pii") as { kek: Buffer };
    row.kek[20] ^= 1;
    db.prepare("UPDATE key_versions SET kek = ? WHERE key_name = ? AND version = 2").run(row.kek, "datasets/pii");
    db.close();
    const ks4 = await openKeystore(home, { pkcs11: { pin: PIN } });
    expect(await code(() => ks4.unwrap(e2, ctx, obj))).toBe("KEYSTORE_CORRUPT");
    expect((await ks4.unwrap(e1, ctx, obj)).equals(dk)).toBe(true);
    ks4.close();
  });

  it("the root keys are generated in the token, sensitive and not extractable: no CKA_VALUE, no C_WrapKey", () => {
    const root = Pkcs11RootKey.generate(login("ks-raw", { keyLabel: "probe" }));
    const keyId = root.info.keyId;
    root.close();
    const P = require("pkcs11js") as typeof import("pkcs11js");
    const p11 = new P.PKCS11();
    p11.load(hsm.module);
    try {
      p11.C_Initialize();
    } catch {
      // already initialised by this process through another binding instance
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === "ks-raw") as Buffer;
    const s = p11.C_OpenSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    try {
      p11.C_Login(s, P.CKU_USER, PIN);
    } catch (e) {
      if (!String(e).includes("CKR_USER_ALREADY_LOGGED_IN")) throw e;
    }
    const find = (label: string) => {
      p11.C_FindObjectsInit(s, [
        { type: P.CKA_LABEL, value: label },
        { type: P.CKA_ID, value: Buffer.from(keyId, "hex") },
      ]);
      const h = p11.C_FindObjects(s, 4);
      p11.C_FindObjectsFinal(s);
      expect(h.length).toBe(1);
      return h[0] as Buffer;
    };
    // a key this session may use to wrap: the attempt must still fail for the root
    const wrapper = p11.C_GenerateKey(s, { mechanism: P.CKM_AES_KEY_GEN }, [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
      { type: P.CKA_VALUE_LEN, value: 32 },
      { type: P.CKA_TOKEN, value: false },
      { type: P.CKA_WRAP, value: true },
      { type: P.CKA_ENCRYPT, value: true },
    ]);
    for (const label of ["probe", "probe.audit"]) {
      const key = find(label);
      const attrs = p11
        .C_GetAttributeValue(s, key, [
          { type: P.CKA_SENSITIVE },
          { type: P.CKA_EXTRACTABLE },
          { type: P.CKA_NEVER_EXTRACTABLE },
          { type: P.CKA_LOCAL },
          { type: P.CKA_TOKEN },
          { type: P.CKA_PRIVATE },
        ])
        .map((a) => (a.value as Buffer)[0]);
      expect(attrs).toEqual([1, 0, 1, 1, 1, 1]); // CKA_LOCAL: generated in the token
      expect(() => p11.C_GetAttributeValue(s, key, [{ type: P.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      expect(() => p11.C_WrapKey(s, { mechanism: P.CKM_AES_KEY_WRAP_PAD }, wrapper, key, Buffer.alloc(256))).toThrow(
        /CKR_KEY_UNEXTRACTABLE|CKR_KEY_NOT_WRAPPABLE/,
      );
      // CKA_ALLOWED_MECHANISMS: no ECB (or any other) oracle on the root for other applications
      expect(() => {
        p11.C_EncryptInit(s, { mechanism: P.CKM_AES_ECB }, key);
        p11.C_Encrypt(s, Buffer.alloc(16), Buffer.alloc(16));
      }).toThrow(/CKR_/);
      // and not modifiable: CKA_EXTRACTABLE cannot be turned back on
      expect(() => p11.C_SetAttributeValue(s, key, [{ type: P.CKA_EXTRACTABLE, value: true }])).toThrow(/CKR_/);
    }
    p11.C_CloseSession(s);
  });

  it("the keystore files hold no copy of the root: only KEK blobs, the check value and the location", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home, { root: { pkcs11: login("ks-files") } });
    const ks = await openKeystore(home, { pkcs11: { pin: PIN } });
    ks.createKey("k");
    ks.close();
    expect(readdirSync(home).sort()).toEqual(["keystore.db"]); // no master.key, no WAL left behind
    const db = new Database(path.join(home, "keystore.db"), { readonly: true });
    const meta = Object.fromEntries((db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    db.close();
    expect(meta.master_source).toBe("pkcs11");
    expect(meta.master_scrypt).toBeUndefined();
    expect(Object.keys(JSON.parse(meta.master_pkcs11 as string)).sort()).toEqual(["keyId", "keyLabel", "module", "slot", "token"]);
    const bytes = readFileSync(path.join(home, "keystore.db"));
    expect(bytes.includes(Buffer.from(PIN + "\0"))).toBe(false);
    expect(JSON.stringify(meta)).not.toMatch(/pin/i);
    // the token's object files are SoftHSM's own: the keystore folder holds nothing else
  });

  it("typed errors: wrong PIN, missing module, missing token, missing key, no HSM options", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home, { root: { pkcs11: login("ks-errors", { keyLabel: "errs" }) } });
    const wrong = await code(() => openKeystore(home, { pkcs11: { pin: "0000" } }));
    expect(wrong).toBe("MASTER_KEY_UNAVAILABLE");
    await openKeystore(home, { pkcs11: { pin: "0000" } }).catch((e: KeystoreError) => expect(e.message).toMatch(/PIN is wrong/));
    expect(await code(() => openKeystore(home, { pkcs11: { pin: PIN, module: "/nonexistent/libpkcs11.so" } }))).toBe("MASTER_KEY_UNAVAILABLE");
    expect(await code(() => openKeystore(home, { pkcs11: { pin: PIN, token: "no-such-token" } }))).toBe("MASTER_KEY_UNAVAILABLE");
    // the same key label on another token: found by label, but not the recorded CKA_ID
    const other = Pkcs11RootKey.generate(login("ks-other", { keyLabel: "errs" }));
    other.close();
    await openKeystore(home, { pkcs11: { pin: PIN, token: "ks-other" } }).then(
      () => expect.fail("opened with another token's key"),
      (e: KeystoreError) => expect([e.code, /no key labelled "errs"/.test(e.message)]).toEqual(["MASTER_KEY_UNAVAILABLE", true]),
    );
    // a keystore made with the HSM cannot be opened without it
    await openKeystore(home).then(
      () => expect.fail("opened without the HSM"),
      (e: KeystoreError) => expect([e.code, /root key is in an HSM/.test(e.message)]).toEqual(["MASTER_KEY_UNAVAILABLE", true]),
    );
    expect(await code(() => openKeystore(home, { passphrase: "x" }))).toBe("INVALID_ARGUMENT");
    // an existing key label is never overwritten
    expect(await code(() => initKeystore(path.join(tempDir(), "ks"), { root: { pkcs11: login("ks-errors", { keyLabel: "errs" }) } }))).toBe("KEYSTORE_EXISTS");
    expect(await code(() => initKeystore(path.join(tempDir(), "ks"), { root: { pkcs11: login("ks-errors", { pin: "0000", keyLabel: "x2" }) } }))).toBe(
      "MASTER_KEY_UNAVAILABLE",
    );
    // the handle still works after all that
    const ks = await openKeystore(home, { pkcs11: { pin: PIN } });
    expect(ks.verifyAudit().ok).toBe(true);
    ks.close();
  });

  it("a replaced token key with the recorded id and label is refused: MASTER_KEY_WRONG", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home, { root: { pkcs11: login("ks-other", { keyLabel: "swap" }) } });
    // point meta at another root whose objects exist (same token, other label and id)
    const impostor = Pkcs11RootKey.generate(login("ks-other", { keyLabel: "swap2" }));
    const info = impostor.info;
    impostor.close();
    const db = new Database(path.join(home, "keystore.db"));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'master_pkcs11'").run(JSON.stringify(info));
    db.close();
    expect(await code(() => openKeystore(home, { pkcs11: { pin: PIN } }))).toBe("MASTER_KEY_WRONG");
  });

  it("PIN sources: a file (0600 only), or the variable with its opt-in; never argv", () => {
    const dir = tempDir();
    const file = path.join(dir, "pin");
    writeFileSync(file, "4321\n", { mode: 0o600 });
    expect(readPkcs11Pin(file, {})).toBe("4321");
    expect(readPkcs11Pin(undefined, { PIPESEAL_PKCS11_PIN_FILE: file })).toBe("4321");
    const loose = path.join(dir, "loose");
    writeFileSync(loose, "4321", { mode: 0o644 });
    expect(() => readPkcs11Pin(loose, {})).toThrow(expect.objectContaining({ code: "MASTER_KEY_INSECURE" }));
    expect(() => readPkcs11Pin(undefined, { PIPESEAL_PKCS11_PIN: "1" })).toThrow(expect.objectContaining({ code: "MASTER_KEY_UNAVAILABLE" }));
    expect(readPkcs11Pin(undefined, { PIPESEAL_PKCS11_PIN: "1", PIPESEAL_ALLOW_ENV_PIN: "1" })).toBe("1");
    expect(() => readPkcs11Pin(undefined, {})).toThrow(expect.objectContaining({ code: "MASTER_KEY_UNAVAILABLE" }));
  });
});
