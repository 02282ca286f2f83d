/**
 * Token HMAC keys from the store: derived (audited) from versions of the service key
 * `pipeseal/service-tokens`, which is created on first start. Replicas on one store share
 * it. Stores that cannot derive get a random per-process key (tokens then work only on the
 * replica that minted them).
 *
 * A token is only as valid as its key version: every verify checks the version's state
 * (enabled, not below the minimum decryption version) in a cached view of the token key, and
 * every mint signs with the current primary. The view is dropped at once by a change of the
 * token key made through this process (KeyStore.onKeyChange), and otherwise lives at most
 * `maxStaleMs` (default 1 s): a disable, destroy or rotation made through another replica (or
 * by the CLI on the same SQLite keystore) reaches this one within that bound. Derived keys of
 * a version that is no longer usable are wiped when the view is refreshed.
 */
import { randomBytes } from "node:crypto";
import { KeyError, isPipesealError } from "../errors.js";
import type { KeyInfo } from "../keys/key-info.js";
import { type DerivingStore, canDerive } from "./service.js";
import { PURPOSE } from "./signing.js";
import type { KeyStore } from "./store/types.js";
import type { TokenKeys } from "./tokens.js";

export const TOKEN_KEY_NAME = "pipeseal/service-tokens";
const SERVICE = "pipeseal-serve";
/** Longest a view of the token key's state is used without a re-read (changes through another replica). */
export const TOKEN_STATE_MAX_STALE_MS = 1_000;

export interface TokenKeyOptions {
  /** Clock (epoch ms); default Date.now. */
  readonly now?: () => number;
  /** Longest a cached view of the token key's state is trusted; default {@link TOKEN_STATE_MAX_STALE_MS}. */
  readonly maxStaleMs?: number;
}

export async function tokenKeysFor(store: KeyStore, options: TokenKeyOptions = {}): Promise<TokenKeys> {
  if (!canDerive(store)) {
    const key = randomBytes(32);
    return { current: async () => ({ version: 1, key }), byVersion: async () => key };
  }
  try {
    await store.createKey(SERVICE, TOKEN_KEY_NAME);
  } catch (e) {
    if (!(isPipesealError(e) && e.code === "KEY_EXISTS")) throw e;
  }
  return new DerivedTokenKeys(store, options.now ?? Date.now, options.maxStaleMs ?? TOKEN_STATE_MAX_STALE_MS);
}

class DerivedTokenKeys implements TokenKeys {
  readonly #store: DerivingStore;
  readonly #now: () => number;
  readonly #maxStaleMs: number;
  /** Derived keys by version; only of versions the last view showed usable. */
  readonly #keys = new Map<number, Buffer>();
  #view: { info: KeyInfo; at: number } | null = null;
  /** One read at a time: concurrent verifies after an expiry share it. */
  #reading: Promise<KeyInfo> | null = null;

  constructor(store: DerivingStore, now: () => number, maxStaleMs: number) {
    this.#store = store;
    this.#now = now;
    this.#maxStaleMs = maxStaleMs;
    store.onKeyChange((name) => {
      if (name === TOKEN_KEY_NAME) this.#view = null;
    });
  }

  async current(): Promise<{ version: number; key: Buffer }> {
    const info = await this.#info();
    return { version: info.primaryVersion, key: await this.#keyOf(info.primaryVersion) };
  }

  /** @throws KeyError(KEY_VERSION_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_BELOW_MIN_VERSION) */
  async byVersion(version: number): Promise<Buffer> {
    const info = await this.#info();
    usable(info, version); // a forged kv never makes the store derive (and audit) a version
    return this.#keyOf(version);
  }

  async #keyOf(version: number): Promise<Buffer> {
    const hit = this.#keys.get(version);
    if (hit) return hit;
    const { key } = await this.#store.deriveKey(SERVICE, TOKEN_KEY_NAME, version, PURPOSE.token, { operation: "token-key" });
    this.#keys.set(version, key);
    return key;
  }

  async #info(): Promise<KeyInfo> {
    const view = this.#view;
    if (view !== null && this.#now() - view.at <= this.#maxStaleMs) return view.info;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #read(): Promise<KeyInfo> {
    const at = this.#now();
    const info = await this.#store.showKey(TOKEN_KEY_NAME);
    this.#view = { info, at };
    for (const [version, key] of this.#keys) {
      try {
        usable(info, version);
      } catch {
        key.fill(0);
        this.#keys.delete(version);
      }
    }
    return info;
  }
}

/** The unwrap state rules, on a view of the key (the store enforces them again when deriving). */
function usable(info: KeyInfo, version: number): void {
  const v = info.versions.find((x) => x.version === version);
  if (v === undefined) throw new KeyError("KEY_VERSION_NOT_FOUND", `the token key has no version ${version}`);
  if (v.state === "destroyed") throw new KeyError("KEY_DESTROYED", `token key v${version} was destroyed`);
  if (v.state === "disabled") throw new KeyError("KEY_DISABLED", `token key v${version} is disabled`);
  if (version < info.minDecryptVersion) throw new KeyError("KEY_BELOW_MIN_VERSION", `token key v${version} is below the minimum decryption version`);
}
