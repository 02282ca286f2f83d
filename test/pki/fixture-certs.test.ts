import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { issueLeaf, makeCa } from "../helpers/certs.js";

describe("test certificate fixture", () => {
  it("issues a leaf that OpenSSL verifies against its CA, with the SANs asked for", async () => {
    const ca = await makeCa();
    const leaf = await issueLeaf(ca, { spiffe: "spiffe://acme/prod/fs", dns: ["fs.internal"], ip: ["127.0.0.1"], client: true });
    const parsed = new X509Certificate(leaf.certPem);
    expect(parsed.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(parsed.subjectAltName).toContain("URI:spiffe://acme/prod/fs");
    expect(parsed.subjectAltName).toContain("DNS:fs.internal");
    expect(parsed.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(leaf.keyPem).toContain("BEGIN PRIVATE KEY");
  });
});
