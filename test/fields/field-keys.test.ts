import { describe, expect, it } from "vitest";
import { KeyError } from "../../src/errors.js";
import { openKeystore } from "../../src/keys/index.js";
import { freshKeystore } from "../helpers/keystore.js";

describe("Keyring.deriveFieldKey (local keystore)", () => {
  it("is stable per (key, version, purpose), audited once per handle, follows version state", async () => {
    const { ks, home } = await freshKeystore(["f"]);
    const obj = { operation: "field-apply" };
    const a = await ks.deriveFieldKey("f", "primary", "encrypt", obj);
    const b = await ks.deriveFieldKey("f", 1, "encrypt", obj);
    expect(a.version).toBe(1);
    expect(a.key.equals(b.key)).toBe(true);
    expect((await ks.deriveFieldKey("f", 1, "tokenize", obj)).key.equals(a.key)).toBe(false);
    expect((await ks.deriveFieldKey("f", 1, "deterministic", obj, 64)).key).toHaveLength(64);
    const records = ks.listAudit().filter((r) => r.operation === "field-apply");
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ keyName: "f", keyVersion: 1, outcome: "ok" });

    // another process/handle derives the same bytes
    const other = await openKeystore(home, { principal: "other" });
    expect((await other.deriveFieldKey("f", 1, "encrypt", obj)).key.equals(a.key)).toBe(true);
    other.close();

    ks.rotateKey("f");
    const v2 = await ks.deriveFieldKey("f", "primary", "encrypt", obj);
    expect(v2.version).toBe(2);
    expect(v2.key.equals(a.key)).toBe(false);
    ks.setMinDecryptVersion("f", 2);
    const fresh = await openKeystore(home, { principal: "t2" });
    await expect(fresh.deriveFieldKey("f", 1, "encrypt", { operation: "field-reveal" })).rejects.toMatchObject({ code: "KEY_BELOW_MIN_VERSION" });
    fresh.setMinDecryptVersion("f", 1);
    fresh.destroyVersion("f", 1);
    await expect(fresh.deriveFieldKey("f", 1, "encrypt", { operation: "field-reveal" })).rejects.toBeInstanceOf(KeyError);
    expect(fresh.listAudit().at(-1)).toMatchObject({ operation: "field-reveal", outcome: "denied", errorCode: "KEY_DESTROYED" });
    await expect(fresh.deriveFieldKey("f", 2, "Bad Purpose", { operation: "field-reveal" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    fresh.close();
  });
});
