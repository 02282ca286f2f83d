/**
 * DSSE envelopes in the Sigstore bundle v0.3 JSON that model-signing writes for key-based
 * signatures (`_signing/sign_ec_key.py`, `sign_sigstore_pb.py`): the public key is named by
 * `verificationMaterial.publicKey.hint` = hex SHA-256 of its SPKI PEM, no transparency log
 * entries, one signature over PAE(payloadType, payload).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { pae } from "../crypto/pae.js";
import { asObject } from "../io/json-value.js";
import { ArtifactError } from "./errors.js";

export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface Bundle {
  mediaType: string;
  verificationMaterial: { publicKey: { hint: string }; tlogEntries: unknown[] };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

export type SignatureAlgorithm = "ed25519" | "p256";

export { pae }; // one encoding for every DSSE signature (also audit anchors)

/** The hint model-signing records: hex SHA-256 of the SubjectPublicKeyInfo PEM (64-column lines, trailing newline). */
export function keyHint(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "pem" }) as string)
    .digest("hex");
}

/** The digest ECDSA uses for a curve (model-signing `get_ec_key_hash`); null for Ed25519 (pure EdDSA). */
export function digestFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === "ed25519") return null;
  if (key.asymmetricKeyType !== "ec") throw new ArtifactError("INVALID_ARGUMENT", `unsupported signing key type ${key.asymmetricKeyType}`);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === "prime256v1") return "sha256";
  if (curve === "secp384r1") return "sha384";
  if (curve === "secp521r1") return "sha512";
  throw new ArtifactError("INVALID_ARGUMENT", `unsupported curve ${curve}`);
}

/** Signs a payload into a bundle. ECDSA signatures are DER (as Python cryptography makes them). */
export function signEnvelope(payload: Buffer, privateKey: KeyObject): Bundle {
  const publicKey = createPublicKey(privateKey);
  const sig = sign(digestFor(publicKey), pae(PAYLOAD_TYPE, payload), { key: privateKey, dsaEncoding: "der" });
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint(publicKey) }, tlogEntries: [] },
    dsseEnvelope: { payload: payload.toString("base64"), payloadType: PAYLOAD_TYPE, signatures: [{ sig: sig.toString("base64"), keyid: "" }] },
  };
}

/** True when the bundle's signature verifies under `publicKey` (only the first signature counts, as upstream). */
export function verifyEnvelope(bundle: Bundle, publicKey: KeyObject): boolean {
  const env = bundle.dsseEnvelope;
  const first = env.signatures[0];
  if (!first) return false;
  try {
    return verify(
      digestFor(publicKey),
      pae(env.payloadType, Buffer.from(env.payload, "base64")),
      { key: publicKey, dsaEncoding: "der" },
      Buffer.from(first.sig, "base64"),
    );
  } catch {
    return false;
  }
}

/**
 * Parses a bundle, accepting the shapes upstream reads (v1.0.0 wrote `rawBytes`/`keyDetails`
 * under publicKey and no hint; v1.1 writes `hint`).
 * @throws ArtifactError(INVALID_ARGUMENT) when it is not a key-signed DSSE bundle.
 */
export function parseBundle(text: string): Bundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ArtifactError("INVALID_ARGUMENT", "the signature file is not JSON");
  }
  const v = asObject(parsed);
  const env = asObject(v?.dsseEnvelope);
  if (v?.mediaType !== BUNDLE_MEDIA_TYPE)
    throw new ArtifactError("INVALID_ARGUMENT", `unsupported bundle media type ${JSON.stringify(v?.mediaType)} (want ${BUNDLE_MEDIA_TYPE})`);
  const payload = env?.payload;
  const signatures = env?.signatures;
  if (!env || typeof payload !== "string" || !Array.isArray(signatures) || signatures.length === 0) {
    throw new ArtifactError("INVALID_ARGUMENT", "the bundle has no DSSE envelope with a signature");
  }
  if (env.payloadType !== PAYLOAD_TYPE)
    throw new ArtifactError("INVALID_ARGUMENT", `DSSE payloadType is ${JSON.stringify(env.payloadType)}, want ${PAYLOAD_TYPE}`);
  const given = asObject(asObject(v.verificationMaterial)?.publicKey)?.hint;
  const hint = typeof given === "string" ? given : "";
  const str = (x: unknown): string => (typeof x === "string" ? x : ""); // anything else cannot verify
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
    dsseEnvelope: {
      payload,
      payloadType: PAYLOAD_TYPE,
      signatures: signatures.map((item: unknown) => ({ sig: str(asObject(item)?.sig), keyid: str(asObject(item)?.keyid) })),
    },
  };
}
