import { describe, expect, it } from "vitest";

describe("the pipeseal/pki subpath export (built package)", () => {
  it("exposes identities, the CA, mTLS helpers, the CRL check and the probe", async () => {
    const pki = await import("pipeseal/pki");
    for (const name of [
      "spiffeId",
      "initCa",
      "issueCertificate",
      "createCrl",
      "createMtlsServer",
      "createMtlsDispatcher",
      "probeTls",
      "trustedCrlIssuers",
      "verifyCrl",
    ]) {
      expect(typeof (pki as Record<string, unknown>)[name], name).toBe("function");
    }
    // the CRL check the mTLS gate uses, for the data gateway and other relying parties
    expect(typeof pki.RevocationList.fromPem).toBe("function");
    expect(typeof pki.CrlSource).toBe("function");
  });
});
