/**
 * Bearer tokens of peers without a client certificate: checked by the backend (the key
 * service), and the answer kept for a short while so a loader's many range requests do not
 * each cost a round trip. An answer is kept until the token expires or `maxAgeMs` passes,
 * whichever is first, so a token key the key service disables stops working here within
 * `maxAgeMs`. Keyed by the token's SHA-256 (the token itself is not kept); bounded in size.
 */
import { createHash } from "node:crypto";
import { PipesealError, isPipesealError } from "../errors.js";

interface Known {
  readonly identity: string;
  readonly until: number;
}

export class PeerTokens {
  readonly #known = new Map<string, Known>();

  constructor(
    private readonly verify: (token: string) => Promise<{ identity: string; expiresAtMs: number }>,
    private readonly now: () => number,
    private readonly maxAgeMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The identity of a valid token. @throws PipesealError(UNAUTHENTICATED) */
  async identify(token: string): Promise<string> {
    const id = createHash("sha256").update(token).digest("hex");
    const t = this.now();
    const hit = this.#known.get(id);
    if (hit && hit.until > t) return hit.identity;
    if (hit) this.#known.delete(id);
    let v: { identity: string; expiresAtMs: number };
    try {
      v = await this.verify(token);
    } catch (e) {
      const code = isPipesealError(e) ? e.code : undefined;
      // the key service would not tell this gateway about that identity: not a peer it may serve
      if (code === "ACCESS_DENIED") throw new PipesealError("GATEWAY_DENIED", "the gateway may not act for this token's identity", { cause: e });
      if (code === "UNAUTHENTICATED" || code === "INVALID_ARGUMENT") throw new PipesealError("UNAUTHENTICATED", "bearer token refused", { cause: e });
      throw e; // the key service unreachable: 503, not a verdict on the token
    }
    if (!(v.expiresAtMs > this.now())) throw new PipesealError("UNAUTHENTICATED", "bearer token refused: expired");
    if (this.#known.size >= this.maxEntries) this.#known.delete(this.#known.keys().next().value as string);
    this.#known.set(id, { identity: v.identity, until: Math.min(v.expiresAtMs, t + this.maxAgeMs) });
    return v.identity;
  }
}
