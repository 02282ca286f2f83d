/**
 * One response's use of an open object, held to the object's `--key-ttl`: every read goes
 * through a window that is still live. Once the TTL has passed, the next read first renews
 * the window — a fresh unwrap, audited as `gateway-read` like the first — or throws, and the
 * response is cut. So a long response never keeps keys past their TTL, and the audit shows an
 * unwrap for every window whose keys decrypted what was sent.
 */
import type { OpenObject, OpenObjects } from "./objects.js";

/** Plaintext and the window whose keys decrypted it (its summary counts it once it is sent). */
export interface Piece {
  readonly bytes: Buffer;
  readonly entry: OpenObject;
}

export class ObjectLease {
  #entry: OpenObject;

  /** `onRenew`: counts the response in each window it continues in (requests, ranges). */
  constructor(
    private readonly objects: OpenObjects,
    entry: OpenObject,
    private readonly onRenew: (entry: OpenObject) => void,
  ) {
    this.#entry = entry;
  }

  /** The window the response reads through now. */
  get entry(): OpenObject {
    return this.#entry;
  }

  /**
   * Plaintext [offset, offset + length) through a live window, renewing it first past its TTL.
   * @throws whatever OpenObjects.renew and OpenObjects.read throw.
   */
  async read(offset: number, length: number): Promise<Piece> {
    if (!this.objects.isLive(this.#entry)) {
      this.#entry = await this.objects.renew(this.#entry);
      this.onRenew(this.#entry);
    }
    const entry = this.#entry;
    return { bytes: await this.objects.read(entry, offset, length), entry };
  }
}
