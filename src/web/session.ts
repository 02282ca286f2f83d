/**
 * Who may see the dashboard. `pipeseal ui` prints a URL with a single-use login token; the
 * first request carrying it gets a random session id in an HttpOnly, SameSite=Strict cookie
 * (script on the page cannot read it; no other site can make the browser send it) and is
 * redirected to the same page without the token, so the token leaves the address bar and
 * history. Every other request needs the cookie. Tokens and session ids are 256-bit random
 * values from node:crypto; only their SHA-256 is kept, so a lookup compares no secret bytes.
 * Each session also has a CSRF token that every form must return (checked in constant time),
 * a second guard beside SameSite for state-changing requests.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "pipeseal_ui";

export interface Session {
  readonly csrf: string;
  /** The identity a key-service session belongs to (null for the local login token's session). */
  readonly owner: string | null;
  readonly createdAt: number;
  lastSeen: number;
  /** The result of the last action, shown once on the next page (post/redirect/get). */
  flash: { readonly ok: boolean; readonly text: string } | null;
}

/**
 * The key service's sessions one identity may hold at once. A caller that never sends the
 * cookie back starts a session on every request; without a bound, an admitted workload could
 * grow the service's memory without end. Past the bound its oldest session ends (only its own).
 */
export const SESSIONS_PER_OWNER = 16;

const digest = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex");
const secret = (): string => randomBytes(32).toString("base64url");

export interface SessionGateOptions {
  readonly now?: () => number;
  /** A session unused this long is gone (default 12 h). */
  readonly idleMs?: number;
  /** An unredeemed login token expires after this long (default 15 min). */
  readonly tokenTtlMs?: number;
}

export class SessionGate {
  readonly #tokens = new Map<string, number>(); // digest → expiry
  readonly #sessions = new Map<string, Session>(); // digest → session
  readonly #byOwner = new Map<string, string[]>(); // owner → digests of its sessions, oldest first
  readonly #now: () => number;
  readonly #idleMs: number;
  readonly #tokenTtlMs: number;

  constructor(options: SessionGateOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#idleMs = options.idleMs ?? 12 * 3_600_000;
    this.#tokenTtlMs = options.tokenTtlMs ?? 15 * 60_000;
  }

  /** A new single-use login token. */
  mintToken(): string {
    const token = secret();
    this.#tokens.set(digest(token), this.#now() + this.#tokenTtlMs);
    return token;
  }

  /** Spends `token`: a new session id (the cookie value), or null for an unknown, used or expired token. */
  redeem(token: string): string | null {
    const key = digest(token);
    const expiry = this.#tokens.get(key);
    this.#tokens.delete(key); // single use, even when expired
    if (expiry === undefined || this.#now() >= expiry) return null;
    const id = secret();
    const now = this.#now();
    this.#sessions.set(digest(id), { csrf: secret(), owner: null, createdAt: now, lastSeen: now, flash: null });
    return id;
  }

  /**
   * A new session for an identity the key service has already authenticated (mTLS or bearer
   * token): the cookie only carries the CSRF token and the flash, never the right to enter.
   * Returns the cookie value and the session.
   */
  start(owner: string): { id: string; session: Session } {
    const id = secret();
    const now = this.#now();
    const session: Session = { csrf: secret(), owner, createdAt: now, lastSeen: now, flash: null };
    const key = digest(id);
    this.#sessions.set(key, session);
    const mine = (this.#byOwner.get(owner) ?? []).filter((k) => this.#sessions.has(k)); // ended ones drop out
    mine.push(key);
    while (mine.length > SESSIONS_PER_OWNER) this.#sessions.delete(mine.shift()!);
    this.#byOwner.set(owner, mine);
    this.#sweep(now);
    return { id, session };
  }

  /** Drops idle sessions and expired tokens (a service sees many identities over its life). */
  #sweep(now: number): void {
    if (this.#sessions.size < 1024) return;
    for (const [k, s] of this.#sessions) if (now - s.lastSeen >= this.#idleMs) this.#sessions.delete(k);
    for (const [k, expiry] of this.#tokens) if (now >= expiry) this.#tokens.delete(k);
    for (const [owner, keys] of this.#byOwner) {
      const live = keys.filter((k) => this.#sessions.has(k));
      if (live.length === 0) this.#byOwner.delete(owner);
      else this.#byOwner.set(owner, live);
    }
  }

  /** How many sessions the gate holds (idle ones included until swept). */
  get size(): number {
    return this.#sessions.size;
  }

  /** The live session for a cookie value, or null. */
  session(id: string | undefined): Session | null {
    if (!id) return null;
    const key = digest(id);
    const s = this.#sessions.get(key);
    if (s === undefined) return null;
    const now = this.#now();
    if (now - s.lastSeen >= this.#idleMs) {
      this.#sessions.delete(key);
      return null;
    }
    s.lastSeen = now;
    return s;
  }

  /** Ends the session of a cookie value (sign out). */
  end(id: string | undefined): void {
    if (id) this.#sessions.delete(digest(id));
  }
}

/** Whether a form's CSRF field is this session's token (constant time). */
export function csrfMatches(session: Session, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(digest(given), "hex");
  const b = Buffer.from(digest(session.csrf), "hex");
  return timingSafeEqual(a, b);
}

/** The cookie value from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name = SESSION_COOKIE): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, scoped to the site's path. `secure` over HTTPS. */
export function sessionCookie(id: string, path: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=${path}${secure ? "; Secure" : ""}`;
}
