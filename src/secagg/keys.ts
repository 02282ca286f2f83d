/**
 * The key material of one party in one round (Bonawitz et al. CCS 2017 §3.2, §3.4, §5
 * Round 0): two X25519 key pairs — `c` encrypts the shares sent to each peer, `s` derives the
 * pairwise masks — and a 32-byte self-mask seed `b`. All fresh per round, from node:crypto.
 */
import { KeyObject, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
import { SecaggError } from "./errors.js";

const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex"); // RFC 8410 §4 SubjectPublicKeyInfo for X25519
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex"); // RFC 8410 §7 OneAsymmetricKey

/** HKDF info strings: one per derived key, so no key is ever used for two purposes. */
export const INFO = {
  pairwise: "pipeseal/secagg/v1 pairwise mask",
  self: "pipeseal/secagg/v1 self mask",
  shareKey: "pipeseal/secagg/v1 share encryption",
} as const;

export interface X25519Pair {
  readonly publicKey: Buffer;
  /** Raw 32-byte private scalar (what is secret-shared for `s`). */
  readonly privateKey: Buffer;
}

export function generateX25519(): X25519Pair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { publicKey: rawPublic(publicKey), privateKey: privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length) };
}

function rawPublic(k: KeyObject): Buffer {
  return k.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length);
}

function privateObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new SecaggError("SECAGG_PROTOCOL", "an X25519 private key is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
}

function publicObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new SecaggError("SECAGG_PROTOCOL", "an X25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** The public key of a raw private key: how a reconstructed `s` key is checked against the signed advertisement. */
export function publicOf(privateKey: Uint8Array): Buffer {
  return rawPublic(createPublicKey(privateObject(privateKey)));
}

/**
 * KA.agree then HKDF-SHA-256 (RFC 5869, Extract with the roster digest as salt, so a key is
 * bound to the exact set of advertisements both sides saw) → 32 bytes for `info`.
 * @throws SecaggError(SECAGG_PROTOCOL) for a malformed or low-order public key.
 */
export function agree(privateKey: Uint8Array, peerPublic: Uint8Array, salt: Uint8Array, info: string): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateObject(privateKey), publicKey: publicObject(peerPublic) });
  } catch (e) {
    throw new SecaggError("SECAGG_PROTOCOL", "X25519 agreement failed (a malformed or low-order public key)", { cause: e });
  }
  // RFC 7748 §6.1: an all-zero output means a low-order point was given
  if (shared.every((b) => b === 0)) throw new SecaggError("SECAGG_PROTOCOL", "X25519 agreement produced zero (low-order public key)");
  const out = Buffer.from(hkdfSync("sha256", shared, salt, info, 32));
  shared.fill(0);
  return out;
}

/** The self-mask PRG key from the seed b (HKDF-SHA-256, salt = roster digest). */
export function selfMaskKey(seed: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", seed, salt, INFO.self, 32));
}

export function randomSeed(): Buffer {
  return randomBytes(32);
}

/**
 * The commitment to a seed published in the signed advertisement: SHA-256 over a
 * domain-separated encoding of round, party and seed. It lets the aggregator check a
 * reconstructed seed (wrong shares are found, not summed into a wrong result).
 */
export function seedCommitment(round: string, party: string, seed: Uint8Array): Buffer {
  return createHash("sha256").update(`pipeseal/secagg/v1 seed\0${round}\0${party}\0`).update(seed).digest();
}
