/**
 * The local keystore: a SQLite file `keystore.db` in the keystore home, holding named,
 * versioned KEKs (encrypted under the master key) and the audit chain.
 *
 * Admin methods are synchronous (SQLite is); the Keyring methods are async to match the
 * interface other keyrings implement over the network.
 *
 * This file is the module's public face, kept so every `./keystore.js` import stays valid:
 * creating a keystore is in init-keystore.ts, opening one in open-keystore.ts, the handle in
 * local-keystore.ts (which delegates to one file per operation).
 *
 * @example
 * await initKeystore(home);
 * const ks = await openKeystore(home);
 * ks.createKey("datasets/pii", { rotateEverySeconds: 90 * 86400 });
 * const entry = await ks.wrap("datasets/pii", dataKey, { dataset: "users" });
 * const dk = await ks.unwrap(entry, { dataset: "users" }, { operation: "decrypt", path: "users.sealed" });
 * dk.fill(0);
 * ks.close();
 */
export type { CapabilityAuditEvent } from "./capability-audit.js";
export { type InitKeystoreOptions, initKeystore } from "./init-keystore.js";
export { LocalKeystore } from "./local-keystore.js";
export { type OpenKeystoreOptions, openKeystore } from "./open-keystore.js";
