/**
 * Model signing keys (Ed25519 or ECDSA P-256) kept in the keystore home. The private key
 * never exists in a plain file: it is sealed (sealBuffer) under the keystore key of the same
 * name, context {purpose: model-signing-key, key, alg}, so every signature is an audited
 * unwrap, and destroying that key's versions shreds the signing key. The record
 * `<home>/signing-keys/<name>.json` (mode 0600, written atomically) holds the algorithm,
 * the public key PEM and the sealed private key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { openBuffer, sealBuffer } from "../envelope/buffer.js";
import { isPipesealError } from "../errors.js";
import { once, writeAtomic } from "../io/atomic.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { validateKeyName } from "../keys/names.js";
import { keyHint, signEnvelope, type Bundle, type SignatureAlgorithm } from "./dsse.js";
import { ArtifactError } from "./errors.js";

export const SIGNING_KEYS_DIR = "signing-keys";

export interface SigningKeyInfo {
  readonly name: string;
  readonly alg: SignatureAlgorithm;
  readonly publicKeyPem: string;
  /** model-signing's key hint: hex SHA-256 of the public key PEM. */
  readonly hint: string;
  readonly createdAt: string;
}

interface Record_ extends SigningKeyInfo {
  readonly format: "pipeseal-signing-key/v1";
  readonly sealedPrivateKey: string;
}

const recordPath = (home: string, name: string) => path.join(home, SIGNING_KEYS_DIR, `${name}.json`);
const contextFor = (name: string, alg: string) => ({ purpose: "model-signing-key", key: name, alg });

/**
 * Creates a signing key: the keystore key `name` (made if missing) seals a fresh private key.
 * @throws UsageError(INVALID_ARGUMENT) for a bad name or algorithm; KeyError(KEY_EXISTS) if a signing key of that name exists.
 * @example await createSigningKey(ks, home, "models/signing", "p256");
 */
export async function createSigningKey(ks: LocalKeystore, home: string, name: string, alg: SignatureAlgorithm): Promise<SigningKeyInfo> {
  validateKeyName(name);
  if (alg !== "ed25519" && alg !== "p256") throw new ArtifactError("INVALID_ARGUMENT", `--alg must be ed25519 or p256 (got ${String(alg)})`);
  const file = recordPath(home, name);
  if (
    await readFile(file).then(
      () => true,
      () => false,
    )
  )
    throw new ArtifactError("KEY_EXISTS", `a signing key named ${name} already exists`);
  try {
    ks.createKey(name);
  } catch (e) {
    if (!isPipesealError(e) || e.code !== "KEY_EXISTS") throw e;
  }
  const { privateKey, publicKey } = alg === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  try {
    const sealed = await sealBuffer(ks, pkcs8, { keyName: name, context: contextFor(name, alg) });
    const info: SigningKeyInfo = {
      name,
      alg,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
      hint: keyHint(publicKey),
      createdAt: new Date().toISOString(),
    };
    const record: Record_ = { format: "pipeseal-signing-key/v1", ...info, sealedPrivateKey: sealed.toString("base64") };
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeAtomic(file, once(Buffer.from(JSON.stringify(record, null, 2) + "\n")), 0o600);
    return info;
  } finally {
    pkcs8.fill(0);
  }
}

async function readRecord(home: string, name: string): Promise<Record_> {
  validateKeyName(name);
  const text = await readFile(recordPath(home, name), "utf8").catch(() => {
    throw new ArtifactError("KEY_NOT_FOUND", `no signing key named ${name}; create one with \`pipeseal model key create ${name}\``);
  });
  const r = JSON.parse(text) as Record_;
  if (r.format !== "pipeseal-signing-key/v1") throw new ArtifactError("KEYSTORE_CORRUPT", `the signing key record for ${name} is unreadable`);
  return r;
}

/** The public half of a signing key (no unwrap, no audit). @throws KeyError(KEY_NOT_FOUND) */
export async function signingKeyInfo(home: string, name: string): Promise<SigningKeyInfo> {
  const { sealedPrivateKey: _s, format: _f, ...info } = await readRecord(home, name);
  return info;
}

/** A handle that signs with a keystore signing key. */
export interface Signer {
  readonly info: SigningKeyInfo;
  readonly publicKey: KeyObject;
  /**
   * Unseals the private key (audited unwrap), signs, records `model.sign` in the audit chain
   * (fail closed: no record, no signature) and wipes the key.
   */
  signPayload(payload: Buffer, subject: { name: string; rootDigest: string }): Promise<Bundle>;
}

/** @throws KeyError(KEY_NOT_FOUND) when there is no such signing key. */
export async function openSigner(ks: LocalKeystore, home: string, name: string): Promise<Signer> {
  const record = await readRecord(home, name);
  const info = await signingKeyInfo(home, name);
  return {
    info,
    publicKey: createPublicKey(record.publicKeyPem),
    async signPayload(payload, subject) {
      const pkcs8 = await openBuffer(ks, Buffer.from(record.sealedPrivateKey, "base64"), { path: `signing-key:${name}` });
      let bundle: Bundle;
      try {
        bundle = signEnvelope(payload, createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
      } finally {
        pkcs8.fill(0);
      }
      ks.auditedChange(
        { operation: "model.sign", keyName: name, objectPath: subject.name, context: { root: subject.rootDigest, hint: info.hint } },
        () => undefined,
      );
      return bundle;
    },
  };
}
