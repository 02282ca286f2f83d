/**
 * Issue 23: a workload's `key list` does not show pipeseal's own keys (the service's token
 * key, the CA's), even under a policy that lets it show every key; a key administrator
 * still sees them. The internal names are those the code really uses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInternalKey } from "../../src/keys/internal-keys.js";
import { CA_KEY_NAME } from "../../src/pki/ca/index.js";
import { TOKEN_KEY_NAME } from "../../src/server/token-keys.js";
import { type Harness, POLICY, startHarness } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  // workloads may show every key ("**"): the widest grant a policy can give them
  h = await startHarness({ policy: POLICY.replace('keys: ["prod/**", "dev/**", "shared/**"]', 'keys: ["**"]') });
}, 60_000);
afterAll(async () => h?.close());

describe("internal keys in listings", () => {
  it("the CA's key and the token key are internal; a data key is not", () => {
    expect(isInternalKey(CA_KEY_NAME)).toBe(true);
    expect(isInternalKey(TOKEN_KEY_NAME)).toBe(true);
    expect(isInternalKey("prod/datasets/raw")).toBe(false);
  });

  it("a workload does not see them; a key administrator does", async () => {
    const workload = (await h.keyring("trainer").listKeys()).map((k) => k.name);
    expect(workload).toContain("prod/datasets/raw");
    expect(workload.filter(isInternalKey)).toEqual([]);
    const admin = (await h.keyring("admin").listKeys()).map((k) => k.name);
    expect(admin).toContain(TOKEN_KEY_NAME);
  });
});
