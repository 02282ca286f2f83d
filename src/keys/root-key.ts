/**
 * The root of the key hierarchy: it protects KEKs at rest and keys the audit chain.
 * Implementations: MasterKey (a key file or a passphrase, held in memory) and an HSM
 * through PKCS#11 (the root never leaves the token). Synchronous on purpose: KEKs are
 * sealed and opened inside SQLite transactions, which cannot await.
 */
export interface RootKey {
  /** Encrypts a KEK for storage, bound to its key name and version. */
  sealKek(keyName: string, version: number, kek: Buffer): Buffer;
  /**
   * Decrypts a stored KEK; the caller wipes the result.
   * @throws KeystoreError(KEYSTORE_CORRUPT) if the blob does not authenticate.
   */
  openKek(keyName: string, version: number, blob: Buffer): Buffer;
  /**
   * HMAC-SHA-256 of `data` under the audit-chain key. A function, not the key bytes, so an
   * HSM root can keep the audit key inside the token (C_Sign with CKM_SHA256_HMAC).
   */
  auditMac(data: Buffer): Buffer;
  /** Hex check value stored at init, so a wrong root is refused with MASTER_KEY_WRONG. */
  checkValue(): string;
  /** Constant-time comparison with a stored check value. */
  matches(storedHex: string): boolean;
  /** Wipes what it holds. Idempotent. */
  close(): void;
}
