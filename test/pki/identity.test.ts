import { describe, expect, it } from "vitest";
import { identityAllowed, parseSpiffeId, spiffeId } from "../../src/pki/identity.js";

describe("service identities", () => {
  it("builds and parses spiffe://td/env/service", () => {
    const uri = spiffeId({ trustDomain: "acme.ml", env: "prod", service: "feature-store" });
    expect(uri).toBe("spiffe://acme.ml/prod/feature-store");
    expect(parseSpiffeId(uri)).toEqual({ trustDomain: "acme.ml", env: "prod", service: "feature-store" });
  });

  it("rejects malformed identities with a typed error", () => {
    for (const bad of [
      "https://acme/prod/x",
      "spiffe://ACME/prod/x",
      "spiffe://acme/prod",
      "spiffe://acme/prod/x/y",
      "spiffe://acme/../x",
      "spiffe://acme/prod/a b",
    ]) {
      expect(() => parseSpiffeId(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("matches allow-lists with a star per env or service, never across trust domains", () => {
    const allow = ["spiffe://acme/prod/*", "spiffe://acme/*/trainer"];
    expect(identityAllowed("spiffe://acme/prod/feature-store", allow)).toBe(true);
    expect(identityAllowed("spiffe://acme/dev/trainer", allow)).toBe(true);
    expect(identityAllowed("spiffe://acme/dev/feature-store", allow)).toBe(false);
    expect(identityAllowed("spiffe://evil/prod/feature-store", allow)).toBe(false);
    expect(identityAllowed("spiffe://acme/prod/x/../y", allow)).toBe(false);
    expect(identityAllowed("not a uri", allow)).toBe(false);
  });
});
