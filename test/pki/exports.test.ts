import { describe, expect, it } from "vitest";

describe("the pipeseal/pki subpath export (built package)", () => {
  it("exposes identities, the CA, mTLS helpers and the probe", async () => {
    const pki = await import("pipeseal/pki");
    for (const name of ["spiffeId", "initCa", "issueCertificate", "createCrl", "createMtlsServer", "createMtlsDispatcher", "probeTls"]) {
      expect(typeof (pki as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
