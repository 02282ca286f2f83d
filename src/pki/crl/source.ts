/**
 * `CrlSource`: where a server's revocation list comes from — a file (watched, reloaded when
 * `pipeseal ca crl -o` replaces it) or PEM given inline — and the rules for taking a new one:
 * it must verify against the trusted CAs, must not be older than the one in use, and (with
 * the `refuse` policy) must not already be past its nextUpdate. A replacement that breaks a
 * rule is refused and the list in use stays.
 */
import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { PipesealError, UsageError } from "../../errors.js";
import { type FileWatcher, type WatchOptions, watchFiles } from "../mtls/watch.js";
import { type CrlExpiredPolicy, RevocationList } from "./check.js";

export interface CrlSourceOptions {
  /** A CRL file (PEM, one or more CRLs): read now, and watched when `watch` is not false. */
  readonly file?: string;
  /** Inline PEM instead of a file (not watched; replace it with `set`). */
  readonly pem?: string | Buffer;
  /** The CAs that may sign the CRLs (re-read on every load: a renewed server certificate may bring a new issuing CA). */
  readonly trusted: () => readonly X509Certificate[];
  readonly onExpired?: CrlExpiredPolicy;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
}

/** Default poll period for a CRL file (fs.watch catches most changes sooner). */
export const CRL_POLL_MS = 10_000;

export class CrlSource {
  readonly file: string | undefined;
  readonly onExpired: CrlExpiredPolicy;
  readonly now: () => number;
  readonly #trusted: () => readonly X509Certificate[];
  #list: RevocationList;

  /** @throws PipesealError(CERT_NOT_FOUND | CERT_MALFORMED | CRL_INVALID): a configuration error, at start-up. */
  constructor(options: CrlSourceOptions) {
    this.file = options.file === undefined ? undefined : path.resolve(options.file);
    this.onExpired = options.onExpired ?? "refuse";
    if (this.onExpired !== "refuse" && this.onExpired !== "warn") throw new UsageError("INVALID_ARGUMENT", `crlExpired must be refuse or warn`);
    this.now = options.now ?? Date.now;
    this.#trusted = options.trusted;
    if (this.file === undefined && options.pem === undefined) throw new UsageError("INVALID_ARGUMENT", "a CRL source needs a file or PEM");
    this.#list = this.#parse(options.pem ?? this.#read());
  }

  get list(): RevocationList {
    return this.#list;
  }

  /** Re-reads the file; returns the new list, or throws (the list in use stays). */
  reload(): RevocationList {
    return this.set(this.#read());
  }

  /** Takes `pem` as the new list if it passes every rule. @throws as the constructor, and CRL_INVALID for an older list. */
  set(pem: string | Buffer): RevocationList {
    const next = this.#parse(pem);
    next.assertNotOlderThan(this.#list, this.#what());
    this.#list = next;
    return next;
  }

  /** Calls `changed` with each new list taken from the file, `failed` with each refused one (retried on the next change or poll). */
  watch(changed: (list: RevocationList) => void, failed: (e: PipesealError) => void, options: WatchOptions = {}): FileWatcher | undefined {
    if (this.file === undefined) return undefined;
    return watchFiles(
      path.dirname(this.file),
      [this.file],
      () => {
        try {
          changed(this.reload());
          return true;
        } catch (e) {
          failed(e instanceof PipesealError ? e : new PipesealError("CRL_INVALID", `${this.#what()}: ${String(e)}`, { cause: e }));
          return false;
        }
      },
      { pollIntervalMs: CRL_POLL_MS, ...options },
    );
  }

  #parse(pem: string | Buffer): RevocationList {
    const what = this.#what();
    const list = RevocationList.fromPem(pem, { trusted: this.#trusted(), now: this.now(), what });
    if (this.onExpired === "refuse" && this.now() > list.nextUpdate.getTime()) {
      throw new PipesealError(
        "CRL_INVALID",
        `${what}: past its nextUpdate (${list.nextUpdate.toISOString()}); run \`pipeseal ca crl -o ${this.file ?? "<file>"}\``,
      );
    }
    return list;
  }

  #read(): string {
    try {
      return readFileSync(this.file!, "utf8");
    } catch (e) {
      throw new PipesealError("CERT_NOT_FOUND", `cannot read the CRL ${this.file}`, { cause: e });
    }
  }

  #what(): string {
    return this.file ?? "crl";
  }
}
