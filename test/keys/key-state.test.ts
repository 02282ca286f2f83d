/**
 * The key-state MAC (src/keys/key-state.ts): a known-answer test that pins the derivation and
 * the canonical bytes (recomputed here from the documented layout with node:crypto alone), and
 * the binding: a MAC does not verify for another key, version, state, count or generation.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StateSeal } from "../../src/keys/key-state.js";
import { MasterKey } from "../../src/keys/master-key.js";

const ROOT = () => Buffer.alloc(32, 0x42);
const KEY = { name: "datasets/pii", primary_version: 2, min_decrypt_version: 1, rotate_every_seconds: 3600, state_gen: 3 };
const VERSION = { key_name: "datasets/pii", version: 1, state: "disabled", wrap_count: 17, state_gen: 3 };

function u(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(n, bytes - Math.min(bytes, 6), Math.min(bytes, 6));
  return b;
}

describe("key-state MAC", () => {
  it("known answer: HKDF-Expand of the audit key, HMAC-SHA-256 over the documented layout", () => {
    const audit = Buffer.from(hkdfSync("sha256", ROOT(), Buffer.alloc(0), "pipeseal/v1/audit-mac", 32));
    const stateKey = createHmac("sha256", audit)
      .update(Buffer.concat([Buffer.from("pipeseal/v1/key-state-mac"), Buffer.from([1])]))
      .digest();
    const name = Buffer.from(KEY.name);
    const label = Buffer.from("pipeseal-key-state-v1");
    const keyBytes = Buffer.concat([label, Buffer.from("K"), u(name.length, 2), name, u(2, 4), u(1, 4), Buffer.from([1]), u(3600, 8), u(3, 8)]);
    const versionBytes = Buffer.concat([label, Buffer.from("V"), u(name.length, 2), name, u(1, 4), Buffer.from([2]), u(17, 8), u(3, 8)]);
    const seal = StateSeal.fromRoot(MasterKey.fromRoot(ROOT()));
    expect(seal.keyMac(KEY).toString("hex")).toBe(createHmac("sha256", stateKey).update(keyBytes).digest("hex"));
    expect(seal.versionMac(VERSION).toString("hex")).toBe(createHmac("sha256", stateKey).update(versionBytes).digest("hex"));
    expect(seal.keyMac(KEY).toString("hex")).toBe("3dc5c2d2a1ab4bb210b83fa1269253b9e78fd34967867a4ffe240d66e4c9ff66");
    expect(seal.versionMac(VERSION).toString("hex")).toBe("411e82608921a076e7d414a07d7135c2331306aae382ea5b6c644cbe62bd89a4");
    expect(seal.marker()).toBe("0eb421a3b2f55801fec9ad711ed5a55247a11d57d4fded46d4e2d796d1c56f30");
  });

  it("binds every field: any other key, version, state, count or generation is KEYSTORE_CORRUPT", () => {
    const seal = StateSeal.fromRoot(MasterKey.fromRoot(ROOT()));
    const key = { ...KEY, state_mac: seal.keyMac(KEY) };
    const row = { ...VERSION, state_mac: seal.versionMac(VERSION) };
    expect(seal.checkKey(key)).toBe(key);
    expect(seal.checkVersion(key, row)).toBe(row);
    for (const edit of [{ name: "datasets/pij" }, { primary_version: 1 }, { min_decrypt_version: 2 }, { rotate_every_seconds: null }, { state_gen: 4 }]) {
      expect(() => seal.checkKey({ ...key, ...edit })).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
    }
    for (const edit of [
      { version: 2 },
      { state: "enabled" },
      { wrap_count: 0 },
      { wrap_count: 18 },
      { state_gen: 2 },
      { state: "bogus" },
      { wrap_count: -1 },
      { state_mac: null },
    ]) {
      expect(() => seal.checkVersion(key, { ...row, ...edit } as typeof row)).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
    }
    // a version row is valid only with its key's generation
    expect(() => seal.checkVersion({ ...key, state_gen: 4 }, row)).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
    // another root's seal refuses everything
    const other = StateSeal.fromRoot(MasterKey.fromRoot(Buffer.alloc(32, 0x43)));
    expect(() => other.checkKey(key)).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
  });
});
