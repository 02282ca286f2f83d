/**
 * Known answers for the two constructions every store shares, so a second implementation cannot
 * drift silently: the field-key derivation (HKDF-SHA-256, RFC 5869) and the sealed KEK's AAD.
 * The HKDF answers were computed independently with OpenSSL 3's CLI:
 *   openssl kdf -keylen 64 -kdfopt digest:SHA256 -kdfopt hexkey:0001…1f \
 *     -kdfopt hexinfo:$(printf 'pipeseal-field-v1field-deterministic' | xxd -p) HKDF
 * Every store derives through fieldKeyFromKek: the keystore's field keys, and the key service's
 * HMAC and token keys in its SQLite and PostgreSQL stores.
 */
import { describe, expect, it } from "vitest";
import { fieldKeyFromKek } from "../../src/keys/field-key.js";
import { kekAad, openKek, sealKek } from "../../src/keys/kek.js";

const KEK = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");

describe("field-key derivation (HKDF-SHA-256, info = pipeseal-field-v1 || purpose)", () => {
  it("gives OpenSSL's answers", () => {
    expect(fieldKeyFromKek(KEK, "field-deterministic", 64).toString("hex")).toBe(
      "d78b7fcb8d064013a5b41018d4d923b5090ec9e8da682428a8e56aff245cacbdde06d8c9864e064ed945536bd2dc7a7416bec035b95c0bda4cfc67c21aa90bd6",
    );
    expect(fieldKeyFromKek(KEK, "field-tokenize", 32).toString("hex")).toBe("0ad18ca0e566c62283583913882fbe68c207916a2818d815a7afd079e704d013");
  });

  it("separates purposes and KEKs", () => {
    const other = Buffer.from(KEK);
    other[31]! ^= 1;
    expect(fieldKeyFromKek(KEK, "field-encrypt", 32).equals(fieldKeyFromKek(KEK, "field-tokenize", 32))).toBe(false);
    expect(fieldKeyFromKek(other, "field-tokenize", 32).equals(fieldKeyFromKek(KEK, "field-tokenize", 32))).toBe(false);
  });
});

describe("the sealed KEK's AAD", () => {
  it("is pipeseal-kek-v1 || u16 BE name length || name || u32 BE version", () => {
    expect(kekAad("prod/datasets/training", 3).toString("hex")).toBe(
      "706970657365616c2d6b656b2d7631" + "0016" + "70726f642f64617461736574732f747261696e696e67" + "00000003",
    );
  });

  it("binds the blob to its key name and version", () => {
    const encKey = Buffer.alloc(32, 7);
    const blob = sealKek(encKey, "prod/a", 1, KEK);
    expect(openKek(encKey, "prod/a", 1, blob).equals(KEK)).toBe(true);
    expect(() => openKek(encKey, "prod/a", 2, blob)).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
    expect(() => openKek(encKey, "prod/b", 1, blob)).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
  });
});
