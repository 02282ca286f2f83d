/**
 * Party identities are the pipeseal CA's mTLS certificates (Bonawitz et al. CCS 2017 §3.5
 * signatures, §3.6 PKI): a party signs its round advertisement with the private key of its
 * certificate, and every other party checks the certificate chains to the CA root it trusts
 * and carries the SPIFFE ID the advertisement names — so the aggregator cannot substitute
 * keys, invent parties, or pass one party off as another.
 */
import { KeyObject, X509Certificate, createPrivateKey, sign, verify } from "node:crypto";
import { pae } from "../crypto/pae.js";
import { type CertSource, checkMaterial, loadMaterial, parseCertBundle } from "../pki/mtls/material.js";
import { spiffeIdsOf } from "../pki/mtls/peer.js";
import { SecaggError } from "./errors.js";

/** What a party signs with and what it trusts. */
export interface PartyIdentity {
  readonly spiffeId: string;
  /** Leaf then issuing CA (PEM), sent with every advertisement. */
  readonly certPem: string;
  /** The CA root(s) peers' certificates must chain to. */
  readonly caPem: string;
  readonly key: KeyObject;
}

/** Loads a `pipeseal ca issue` folder (or inline PEM). @throws PipesealError(CERT_MALFORMED | CERT_NOT_FOUND) */
export function loadIdentity(source: CertSource): PartyIdentity {
  const m = loadMaterial(source);
  const leaf = checkMaterial(m);
  const ids = spiffeIdsOf({ subjectaltname: leaf.subjectAltName ?? "" } as never);
  if (ids.length !== 1) throw new SecaggError("SECAGG_PROTOCOL", "the party's certificate must carry exactly one SPIFFE ID");
  return { spiffeId: ids[0], certPem: m.cert, caPem: m.ca, key: createPrivateKey(m.key) };
}

const digestFor = (k: KeyObject): string | null => (k.asymmetricKeyType === "ed25519" || k.asymmetricKeyType === "ed448" ? null : "sha256");

/** Signs `payload` as DSSE PAE(type, payload) (DSSE v1 protocol), so one signature can never be read as another message type. */
export function signPayload(key: KeyObject, type: string, payload: Uint8Array): Buffer {
  return sign(digestFor(key), pae(type, payload), key);
}

function validAt(c: X509Certificate, nowMs: number): boolean {
  return Date.parse(c.validFrom) <= nowMs && nowMs <= Date.parse(c.validTo);
}

/**
 * Verifies a certificate chain (leaf first, then intermediates) against the trusted roots at
 * `nowMs` and returns the leaf's SPIFFE ID and key.
 * @throws SecaggError(SECAGG_PROTOCOL) for a chain that does not lead to a root, an expired
 *   or not-yet-valid certificate, a CA leaf, or a leaf without exactly one SPIFFE ID.
 */
export function verifyChain(certPem: string, caPem: string, nowMs: number): { spiffeId: string; publicKey: KeyObject } {
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    roots = rootsOf(caPem);
    chain = parseCertBundle(certPem, "party certificate");
  } catch (e) {
    throw new SecaggError("SECAGG_PROTOCOL", "a party certificate is not valid PEM X.509", { cause: e });
  }
  const leaf = chain[0];
  if (leaf.ca) throw new SecaggError("SECAGG_PROTOCOL", "a party certificate is a CA certificate");
  let current = leaf;
  const seen = new Set<string>();
  for (let depth = 0; depth < 8; depth++) {
    if (!validAt(current, nowMs)) throw new SecaggError("SECAGG_PROTOCOL", "a certificate in a party's chain is expired or not yet valid");
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) {
      if (!validAt(root, nowMs)) throw new SecaggError("SECAGG_PROTOCOL", "the CA root is expired or not yet valid");
      const ids = spiffeIdsOf({ subjectaltname: leaf.subjectAltName ?? "" } as never);
      if (ids.length !== 1) throw new SecaggError("SECAGG_PROTOCOL", "a party certificate must carry exactly one SPIFFE ID");
      return { spiffeId: ids[0], publicKey: leaf.publicKey };
    }
    seen.add(current.fingerprint256);
    const up = chain.find((c) => c.ca && !seen.has(c.fingerprint256) && current.checkIssued(c) && current.verify(c.publicKey));
    if (!up) break;
    current = up;
  }
  throw new SecaggError("SECAGG_PROTOCOL", "a party certificate does not chain to the trusted CA");
}

// a roster verifies every party's chain against the same roots: parse them once
const ROOTS = new Map<string, X509Certificate[]>();
function rootsOf(caPem: string): X509Certificate[] {
  let roots = ROOTS.get(caPem);
  if (!roots) {
    roots = parseCertBundle(caPem, "CA bundle").filter((r) => r.ca);
    if (ROOTS.size >= 8) ROOTS.delete(ROOTS.keys().next().value!);
    ROOTS.set(caPem, roots);
  }
  return roots;
}

/** Verifies a DSSE-PAE signature. @throws SecaggError(SECAGG_PROTOCOL) */
export function verifyPayload(publicKey: KeyObject, type: string, payload: Uint8Array, signature: Uint8Array, what: string): void {
  let ok: boolean;
  try {
    ok = verify(digestFor(publicKey), pae(type, payload), publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new SecaggError("SECAGG_PROTOCOL", `${what}: the signature does not verify`);
}
