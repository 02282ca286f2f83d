/**
 * Token HMAC keys from the store: derived (audited) from versions of the service key
 * `pipeseal/service-tokens`, which is created on first start. Replicas on one store share
 * it. Stores that cannot derive get a random per-process key (tokens then work only on the
 * replica that minted them).
 */
import { randomBytes } from "node:crypto";
import { isPipesealError } from "../errors.js";
import { type DerivingStore, canDerive } from "./service.js";
import { PURPOSE } from "./signing.js";
import type { KeyStore } from "./store/types.js";
import type { TokenKeys } from "./tokens.js";

export const TOKEN_KEY_NAME = "pipeseal/service-tokens";
const SERVICE = "pipeseal-serve";

export async function tokenKeysFor(store: KeyStore): Promise<TokenKeys> {
  if (!canDerive(store)) {
    const key = randomBytes(32);
    return { current: async () => ({ version: 1, key }), byVersion: async () => key };
  }
  try {
    await store.createKey(SERVICE, TOKEN_KEY_NAME);
  } catch (e) {
    if (!(isPipesealError(e) && e.code === "KEY_EXISTS")) throw e;
  }
  return new DerivedTokenKeys(store);
}

class DerivedTokenKeys implements TokenKeys {
  readonly #store: DerivingStore;
  readonly #cache = new Map<number, Buffer>();
  #primary: { version: number; at: number } | null = null;
  constructor(store: DerivingStore) {
    this.#store = store;
  }
  async current(): Promise<{ version: number; key: Buffer }> {
    if (!this.#primary || Date.now() - this.#primary.at > 60_000) {
      const info = await this.#store.showKey(TOKEN_KEY_NAME);
      this.#primary = { version: info.primaryVersion, at: Date.now() };
    }
    return { version: this.#primary.version, key: await this.byVersion(this.#primary.version) };
  }
  async byVersion(version: number): Promise<Buffer> {
    const hit = this.#cache.get(version);
    if (hit) return hit;
    // a forged token must not make the store derive (and audit) arbitrary versions
    if (this.#primary === null || version > this.#primary.version) await this.current();
    if (version > this.#primary!.version) throw new Error("unknown token key version");
    const { key } = await this.#store.deriveKey(SERVICE, TOKEN_KEY_NAME, version, PURPOSE.token, { operation: "token-key" });
    this.#cache.set(version, key);
    return key;
  }
}
