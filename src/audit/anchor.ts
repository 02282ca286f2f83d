/**
 * Signed checkpoints of the audit head ("anchors"), kept outside the keystore, so that a
 * rollback of the whole database (restoring an older keystore.db, which also un-destroys
 * keys) or a forked chain can be seen: `audit verify --anchor` proves the current chain
 * extends every anchor given. docs/audit.md says what this does and does not prevent.
 *
 * Format: a DSSE envelope (DSSE v1.0.0) in JSON, one Ed25519 signature (RFC 8032, pure)
 * over PAE(payloadType, payload) by the keystore's anchor key (anchor-key.ts):
 *
 *   { "payloadType": "application/vnd.pipeseal.audit-anchor+json",
 *     "payload": base64(JSON {schema, keyId, store, seq, mac, time}),
 *     "signatures": [{ "keyid": keyId, "sig": base64(signature) }] }
 *
 * Anyone with the public key (SPKI PEM) checks it with OpenSSL alone (docs/audit.md).
 *
 * Security guarantees: an anchor cannot be forged or altered without the audit key (the
 * anchor key is derived from it); the verifier takes the public key from the keystore's own
 * key, never from the anchor or the database. An anchor says nothing about records after it.
 */
import { type KeyObject, createPublicKey, sign, verify } from "node:crypto";
import { AuditError } from "../errors.js";
import { pae } from "../crypto/pae.js";
import { type AnchorKey, anchorKeyId } from "./anchor-key.js";
import type { AuditHead } from "./types.js";

export const ANCHOR_PAYLOAD_TYPE = "application/vnd.pipeseal.audit-anchor+json";
export const ANCHOR_SCHEMA = "pipeseal.audit-anchor.v1";
/** An anchor file is small; anything larger is not one. */
const MAX_ANCHOR_BYTES = 16 * 1024;

/** What an anchor states. */
export interface AuditAnchor {
  readonly schema: typeof ANCHOR_SCHEMA;
  /** Hex SHA-256 of the anchor public key's SPKI DER: names the keystore (or key service). */
  readonly keyId: string;
  /** "local" (a keystore) or "key-service". */
  readonly store: string;
  /** The head's seq and hex chain MAC when the anchor was taken. */
  readonly seq: number;
  readonly mac: string;
  /** ISO 8601 UTC. */
  readonly time: string;
}

export interface AnchorEnvelope {
  readonly payloadType: typeof ANCHOR_PAYLOAD_TYPE;
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/** Signs the head. The caller has checked that the head authenticates. */
export function signAnchor(key: AnchorKey, head: AuditHead, store: string, nowMs: number): AnchorEnvelope {
  const anchor: AuditAnchor = { schema: ANCHOR_SCHEMA, keyId: key.keyId, store, seq: head.seq, mac: head.mac, time: new Date(nowMs).toISOString() };
  const payload = Buffer.from(JSON.stringify(anchor), "utf8");
  const sig = sign(null, pae(ANCHOR_PAYLOAD_TYPE, payload), key.privateKey);
  return { payloadType: ANCHOR_PAYLOAD_TYPE, payload: payload.toString("base64"), signatures: [{ keyid: key.keyId, sig: sig.toString("base64") }] };
}

/**
 * Parses an anchor file's text.
 * @throws AuditError(AUDIT_ANCHOR_INVALID) unless it is an anchor envelope.
 */
export function parseAnchorEnvelope(text: string): AnchorEnvelope {
  if (text.length > MAX_ANCHOR_BYTES) throw invalid("it is too large to be an anchor");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw invalid("it is not JSON");
  }
  return asEnvelope(v);
}

/** @throws AuditError(AUDIT_ANCHOR_INVALID) */
export function asEnvelope(v: unknown): AnchorEnvelope {
  const e = v as Partial<AnchorEnvelope> | null;
  if (
    e === null ||
    typeof e !== "object" ||
    e.payloadType !== ANCHOR_PAYLOAD_TYPE ||
    typeof e.payload !== "string" ||
    !Array.isArray(e.signatures) ||
    e.signatures.length !== 1
  ) {
    throw invalid(`it is not a DSSE envelope of type ${ANCHOR_PAYLOAD_TYPE} with one signature`);
  }
  const s = e.signatures[0] as { keyid?: unknown; sig?: unknown };
  if (typeof s?.keyid !== "string" || typeof s.sig !== "string") throw invalid("its signature entry is malformed");
  return { payloadType: ANCHOR_PAYLOAD_TYPE, payload: e.payload, signatures: [{ keyid: s.keyid, sig: s.sig }] };
}

/**
 * Checks the signature under `key` and returns what the anchor states.
 * @throws AuditError(AUDIT_ANCHOR_INVALID) if it was signed by another key, was altered, or is malformed.
 */
export function openAnchor(envelope: AnchorEnvelope, key: Pick<AnchorKey, "publicKey" | "keyId">): AuditAnchor {
  const payload = Buffer.from(envelope.payload, "base64");
  const sig = Buffer.from((envelope.signatures[0] as { sig: string }).sig, "base64");
  let ok: boolean;
  try {
    ok = sig.length === 64 && verify(null, pae(envelope.payloadType, payload), key.publicKey, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid("its signature does not verify under this keystore's anchor key (altered, or taken from another keystore)");
  let a: Partial<AuditAnchor>;
  try {
    a = JSON.parse(payload.toString("utf8")) as Partial<AuditAnchor>;
  } catch {
    throw invalid("its payload is not JSON");
  }
  if (
    a.schema !== ANCHOR_SCHEMA ||
    a.keyId !== key.keyId ||
    typeof a.store !== "string" ||
    !Number.isSafeInteger(a.seq) ||
    (a.seq as number) < 1 ||
    typeof a.mac !== "string" ||
    !/^[0-9a-f]{64}$/.test(a.mac) ||
    typeof a.time !== "string"
  ) {
    throw invalid("its payload is not a pipeseal.audit-anchor.v1 statement for this keystore");
  }
  return a as AuditAnchor;
}

/**
 * Checks an anchor file's text with the public key alone (the SPKI PEM `audit anchor
 * --export-key` writes), e.g. on a machine without the keystore.
 * @example
 * const { seq, mac, time } = openAnchorWithPublicKey(readFileSync("a.json", "utf8"), readFileSync("anchor-key.pem", "utf8"));
 * @throws AuditError(AUDIT_ANCHOR_INVALID)
 */
export function openAnchorWithPublicKey(text: string, publicKeyPem: string): AuditAnchor {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch {
    throw invalid("the public key is not a PEM public key");
  }
  if (publicKey.asymmetricKeyType !== "ed25519") throw invalid("the public key is not an Ed25519 key");
  return openAnchor(parseAnchorEnvelope(text), { publicKey, keyId: anchorKeyId(publicKey) });
}

function invalid(why: string): AuditError {
  return new AuditError("AUDIT_ANCHOR_INVALID", `the audit anchor is not valid: ${why}`);
}
