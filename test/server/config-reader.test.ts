/** keyservice.yaml through the strict reader: each mistake at its line and column, no value echoed. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { parseConfig } from "../../src/server/config.js";
import { expectMessage, refusalOf } from "../helpers/reader-error.js";

const BASE = 'certDir: certs\nallow: ["spiffe://acme.ml/*"]\n';
const SECRET = "hunter2-SECRET-pin-0000";

function refusal(text: string): string {
  return refusalOf(() => parseConfig(text, "/srv"), UsageError);
}

describe("keyservice.yaml reader", () => {
  it("fills the defaults and resolves paths against the file's folder", () => {
    const c = parseConfig(BASE, "/srv");
    expect([c.host, c.port, c.certDir, c.store, c.tokenTtlSeconds, c.crlExpired]).toEqual([
      "127.0.0.1",
      8443,
      "/srv/certs",
      { kind: "sqlite", home: "/srv/.pipeseal" },
      900,
      "refuse",
    ]);
    const pg = parseConfig(`${BASE}store: { kind: postgres, url: "postgres://db/keys", create: true }\ntokenTtl: 5m\n`, "/srv");
    expect([pg.store, pg.tokenTtlSeconds]).toEqual([{ kind: "postgres", url: "postgres://db/keys", create: true }, 300]);
  });

  it.each([
    [
      "a misspelt top-level key",
      `${BASE}polcy: p.yaml\n`,
      'keyservice config: keyservice.yaml:3:1: polcy: unknown key "polcy" (allowed: listen, certDir, allow, keyringId, store, policy, tokenTtl, tokensWithoutCertificate, root, tls, audit)',
    ],
    ["no certDir", 'allow: ["spiffe://acme.ml/*"]\n', "keyservice config: keyservice.yaml:1:1: `certDir` is required"],
    ["an empty allow list", "certDir: certs\nallow: []\n", "keyservice config: keyservice.yaml:2:8: allow: must not be empty"],
    ["a port out of range", `${BASE}listen: { port: 70000 }\n`, "keyservice config: keyservice.yaml:3:17: listen.port: must be <= 65535"],
    [
      "a key of the other store",
      `${BASE}store: { kind: sqlite, url: "postgres://x" }\n`,
      'keyservice config: keyservice.yaml:3:24: store.url: unknown key "url" (allowed: kind, home)',
    ],
    ["a postgres store without url", `${BASE}store: { kind: postgres }\n`, "keyservice config: keyservice.yaml:3:8: store: `url` is required"],
    [
      "a keyring id of local",
      `${BASE}keyringId: local\n`,
      'keyservice config: keyservice.yaml:3:12: keyringId: must be 1-128 characters of A-Z a-z 0-9 : . _ - and not "local"',
    ],
    ["a token lifetime past 15m", `${BASE}tokenTtl: 20m\n`, "keyservice config: keyservice.yaml:3:11: tokenTtl: must be between 1s and 15m"],
    ["crlExpired without a crl", `${BASE}tls: { crlExpired: warn }\n`, "keyservice config: keyservice.yaml:3:20: tls.crlExpired: needs tls.crl"],
    [
      "an inline PIN",
      `${BASE}root:\n  pkcs11:\n    module: m.so\n    pin: "1234"\n`,
      /^keyservice config: keyservice\.yaml:6:10: root\.pkcs11\.pin: a PIN in the config file is refused/,
    ],
  ])("refuses %s, at the node at fault", (_what, text, expected) => {
    expectMessage(refusal(text), expected);
  });

  it("never echoes a value from the file, a PIN least of all", () => {
    for (const text of [
      `${BASE}root:\n  pkcs11:\n    module: m.so\n    pin: ${SECRET}\n`,
      `${BASE}root:\n  pkcs11:\n    pinEnv: "${SECRET} x"\n`,
      `${BASE}keyringId: "${SECRET} x"\n`,
      `${BASE}store: { kind: postgres, url: ${SECRET} }\n`,
      `${BASE}audit: { anchorEvery: ${SECRET}, anchorDir: a }\n`,
      `${BASE}tokenTtl: ${SECRET}\n`,
    ]) {
      expect(refusal(text)).not.toContain("SECRET");
    }
  });
});
