/**
 * One round at the aggregator (Bonawitz et al. CCS 2017 §5 Figure 4, server side, Rounds 0–4), free of
 * transport and timers: messages go in as they arrive, `close()` ends the current step
 * (the server calls it when every expected party has answered or the step's time is up),
 * and each close checks that at least t parties remain or aborts the round.
 *
 * Masked vectors are added into one running sum the moment they arrive and never kept, so
 * no party's vector is held (or written) anywhere. Membership at each step, who dropped where,
 * and the digest of the released result are what `summary()` reports for the audit chain.
 */
import { createHash } from "node:crypto";
import type { VerifiedAdvertisement } from "./advertise.js";
import { verifyAdvertisement } from "./advertise.js";
import { type RoundConfig, checkConfig } from "./config.js";
import { consistencyDigest, consistencyPayload, lackingQuorum, quorumFor, verifyConsistency } from "./consistency.js";
import { SecaggError } from "./errors.js";
import { ELEMENT_BYTES } from "./field.js";
import { INFO, agree, publicOf, seedCommitment, selfMaskKey } from "./keys.js";
import { addInto, addMask, bytesToWords, subMask } from "./prg.js";
import { dequantizeSum } from "./quantize.js";
import { type OpenRoster, rosterOf } from "./roster.js";
import { type Share, combine, lagrangeAtZero } from "./shamir.js";
import type {
  Advertisement,
  ConsistencyMessage,
  ConsistencyRequest,
  EncryptedShare,
  Inbox,
  Roster,
  SharesMessage,
  UnmaskRequest,
  UnmaskResponse,
} from "./wire.js";
import { unb64 } from "./wire.js";

export type RoundStep = "advertise" | "share" | "mask" | "consistency" | "unmask" | "done" | "aborted";

export interface RoundResult {
  readonly round: string;
  /** The parties whose inputs the sum holds (U3). */
  readonly included: readonly string[];
  readonly sum: Float64Array;
  /** SHA-256 (hex) of the sum as released (float64 little-endian). */
  readonly digest: string;
  /** Per-coordinate error bound against the exact sum of the clipped inputs. */
  readonly errorBound: number;
}

export interface RoundSummary {
  readonly round: string;
  readonly step: RoundStep;
  readonly graph: RoundConfig["graph"];
  readonly threshold: number;
  readonly dim: number;
  /** U1 … U5 of the paper: advertised, shared, sent a masked vector, signed U3, answered the unmasking. */
  readonly advertised: readonly string[];
  readonly shared: readonly string[];
  readonly masked: readonly string[];
  readonly signed: readonly string[];
  readonly unmasked: readonly string[];
  /** SHA-256 (hex) of the Round 3 payload every signer signed (round, roster digest, U3). */
  readonly consistencyDigest?: string;
  readonly resultDigest?: string;
  readonly abort?: { readonly step: RoundStep; readonly message: string };
}

export interface RoundOptions {
  readonly config: RoundConfig;
  /** The CA root(s) party certificates must chain to. */
  readonly caPem: string;
  /** Clock in epoch ms for certificate validity. */
  readonly now?: () => number;
}

const bad = (m: string): never => {
  throw new SecaggError("SECAGG_PROTOCOL", m);
};

export class AggregatorRound {
  readonly config: RoundConfig;
  readonly #caPem: string;
  readonly #now: () => number;
  #step: RoundStep = "advertise";
  readonly #ads = new Map<string, VerifiedAdvertisement>();
  #roster: OpenRoster | undefined;
  readonly #shares = new Map<string, readonly EncryptedShare[]>();
  #u2: string[] = [];
  readonly #masked = new Set<string>();
  #sum: Uint32Array | undefined;
  #u3: string[] = [];
  #u3Payload: Buffer | undefined;
  readonly #signatures = new Map<string, string>();
  #u4: string[] = [];
  readonly #answers = new Map<string, UnmaskResponse>();
  #result: RoundResult | undefined;
  #abort: { step: RoundStep; message: string } | undefined;

  constructor(o: RoundOptions) {
    checkConfig(o.config);
    this.config = o.config;
    this.#caPem = o.caPem;
    this.#now = o.now ?? Date.now;
  }

  get step(): RoundStep {
    return this.#step;
  }

  get result(): RoundResult | undefined {
    return this.#result;
  }

  get abortError(): SecaggError | undefined {
    return this.#abort
      ? new SecaggError("SECAGG_ABORTED", `round ${this.config.round} aborted at the ${this.#abort.step} step: ${this.#abort.message}`)
      : undefined;
  }

  #expect(step: RoundStep): void {
    if (this.#step === "aborted") throw this.abortError!;
    if (this.#step !== step) bad(`round ${this.config.round} is at the ${this.#step} step, not ${step}`);
  }

  /** True if `peer` is a member at the current step's entry (may post now). */
  isMember(peer: string): boolean {
    return this.#ads.has(peer);
  }

  /** Parties that may still answer the current step (none left: the server closes it at once). */
  pending(): number {
    switch (this.#step) {
      case "advertise":
        return this.config.maxParties - this.#ads.size;
      case "share":
        return this.#roster!.parties.length - this.#shares.size;
      case "mask":
        return this.#u2.length - this.#masked.size;
      case "consistency":
        return this.#u3.length - this.#signatures.size;
      case "unmask":
        return this.#u4.length - this.#answers.size;
      default:
        return 0;
    }
  }

  /** Round 0 input. `peer` is the mTLS-authenticated SPIFFE ID; the advertisement must be its own. */
  advertise(peer: string, ad: Advertisement): void {
    this.#expect("advertise");
    if (this.#ads.has(peer)) bad(`${peer} already advertised in round ${this.config.round}`);
    if (this.#ads.size >= this.config.maxParties) bad(`round ${this.config.round} is full`);
    const v = verifyAdvertisement(ad, this.config, this.#caPem, this.#now());
    if (v.party !== peer) bad(`${peer} posted the advertisement of ${v.party}`);
    this.#ads.set(peer, v);
  }

  roster(): Roster {
    if (!this.#roster) bad("the roster is not fixed yet");
    return { config: this.config, advertisements: this.#roster!.parties.map((p) => p.ad) };
  }

  /** Round 1 input: one encrypted share for each holder of the sender's secrets (graph), nothing else. */
  shares(peer: string, msg: SharesMessage): void {
    this.#expect("share");
    const r = this.#roster!;
    const me = r.index.get(peer);
    if (me === undefined) bad(`${peer} is not in round ${this.config.round}`);
    if (msg.round !== this.config.round) bad("the shares belong to another round (a replay)");
    if (msg.from !== peer || this.#shares.has(peer)) bad(`${peer} posted shares twice or in another's name`);
    const want = new Set(r.graph.holders[me!].filter((h) => h !== me).map((h) => r.parties[h].party));
    if (msg.shares.length !== want.size) bad(`${peer} must send exactly one share to each of its ${want.size} holders`);
    const seen = new Set<string>();
    for (const s of msg.shares) {
      if (s.from !== peer || !want.has(s.to) || seen.has(s.to)) bad(`${peer} sent a share to a party that does not hold its secrets`);
      seen.add(s.to);
    }
    this.#shares.set(peer, msg.shares);
  }

  inbox(peer: string): Inbox {
    if (!this.#u2.includes(peer)) bad(`${peer} is not in U2 of round ${this.config.round}`);
    const shares = this.#u2.flatMap((u) => (u === peer ? [] : this.#shares.get(u)!.filter((s) => s.to === peer)));
    return { round: this.config.round, u2: this.#u2, shares };
  }

  /** Round 2 input: the masked vector, added into the running sum at once. */
  masked(peer: string, bytes: Uint8Array): void {
    this.#expect("mask");
    if (!this.#u2.includes(peer)) bad(`${peer} is not in U2 of round ${this.config.round}`);
    if (this.#masked.has(peer)) bad(`${peer} already sent its masked vector`);
    if (bytes.length !== this.config.dim * 4) bad(`a masked vector of round ${this.config.round} is ${this.config.dim * 4} bytes`);
    this.#sum ??= new Uint32Array(this.config.dim);
    addInto(this.#sum, bytesToWords(bytes));
    this.#masked.add(peer);
  }

  /** Round 3 request: the survivor set U3, the same for every member of U3. */
  consistencyRequest(peer: string): ConsistencyRequest {
    if (!this.#u3.includes(peer)) bad(`${peer} is not in U3 of round ${this.config.round}`);
    return { round: this.config.round, u3: this.#u3 };
  }

  /** Round 3 input: the peer's signature over U3, checked under its roster certificate before it is kept. */
  consistency(peer: string, msg: ConsistencyMessage): void {
    this.#expect("consistency");
    if (!this.#u3.includes(peer)) bad(`${peer} is not in U3 of round ${this.config.round}`);
    if (msg.round !== this.config.round) bad("the consistency signature belongs to another round (a replay)");
    if (msg.from !== peer || this.#signatures.has(peer)) bad(`${peer} signed twice or in another's name`);
    verifyConsistency(this.#roster!, peer, this.#u3Payload!, msg.sig);
    this.#signatures.set(peer, msg.sig);
  }

  /** Round 4 request, for every member of U4: U3, U2 \ U3 and enough of U4's signatures over U3 for its quorum check. */
  unmaskRequest(peer: string): UnmaskRequest {
    if (!this.#u4.includes(peer)) bad(`${peer} is not in U4 (the signers of U3) of round ${this.config.round}`);
    return {
      round: this.config.round,
      survivors: this.#u3,
      dropped: this.#u2.filter((u) => !this.#masked.has(u)),
      signatures: this.#quorumFor(peer).map((from) => ({ from, sig: this.#signatures.get(from)! })),
    };
  }

  /** The signers to forward to `peer`: t of the holders of every U2 member whose share it holds (consistency.ts). */
  #quorumFor(peer: string): string[] {
    const r = this.#roster!;
    const me = r.index.get(peer)!;
    return quorumFor(
      r,
      this.#u2.filter((v) => r.graph.holders[r.index.get(v)!].includes(me)),
      this.#u4,
    );
  }

  /** Round 4 input: shares of survivors' seeds and dropped parties' keys this peer holds. */
  unmask(peer: string, msg: UnmaskResponse): void {
    this.#expect("unmask");
    const r = this.#roster!;
    if (!this.#u4.includes(peer)) bad(`${peer} is not in U4 (the signers of U3) of round ${this.config.round}`);
    if (msg.round !== this.config.round) bad("the unmasking answer belongs to another round (a replay)");
    if (msg.from !== peer || this.#answers.has(peer)) bad(`${peer} answered twice or in another's name`);
    const me = r.index.get(peer)!;
    const holds = (of: string) => r.index.has(of) && r.graph.holders[r.index.get(of)!].includes(me);
    const seen = new Set<string>();
    for (const s of msg.seeds)
      if (!this.#masked.has(s.of) || !holds(s.of) || seen.has(s.of) || !seen.add(s.of)) bad(`${peer} revealed a seed share it should not hold`);
    for (const s of msg.keys)
      if (this.#masked.has(s.of) || !this.#u2.includes(s.of) || !holds(s.of) || seen.has(s.of) || !seen.add(s.of))
        bad(`${peer} revealed a key share it should not hold`);
    for (const s of [...msg.seeds, ...msg.keys]) unb64(s.y, "revealed share", ELEMENT_BYTES);
    this.#answers.set(peer, msg);
  }

  /** Aborts the round now (e.g. the operator stops the server). */
  abort(message: string): void {
    if (this.#step === "done" || this.#step === "aborted") return;
    this.#fail(message);
  }

  #fail(message: string): never {
    this.#abort = { step: this.#step, message };
    this.#step = "aborted";
    this.#sum?.fill(0);
    this.#sum = undefined;
    throw this.abortError!;
  }

  /** Ends the current step. @throws SecaggError(SECAGG_ABORTED) when fewer than t parties remain (the round is then aborted). */
  close(): void {
    const c = this.config;
    switch (this.#step) {
      case "advertise": {
        if (this.#ads.size < c.minParties) this.#fail(`${this.#ads.size} parties advertised; the round needs ${c.minParties}`);
        this.#roster = rosterOf(c, [...this.#ads.values()]);
        this.#step = "share";
        return;
      }
      case "share": {
        this.#u2 = this.#roster!.parties.map((p) => p.party).filter((p) => this.#shares.has(p));
        if (this.#u2.length < c.threshold) this.#fail(`${this.#u2.length} parties shared their keys; the threshold is ${c.threshold}`);
        this.#step = "mask";
        return;
      }
      case "mask": {
        this.#u3 = this.#u2.filter((p) => this.#masked.has(p));
        if (this.#u3.length < c.threshold) this.#fail(`${this.#u3.length} parties sent masked vectors; the threshold is ${c.threshold}`);
        this.#u3Payload = consistencyPayload(c.round, this.#roster!.digest, this.#u3);
        this.#step = "consistency";
        return;
      }
      case "consistency": {
        this.#u4 = this.#u3.filter((p) => this.#signatures.has(p));
        if (this.#u4.length < c.threshold) this.#fail(`${this.#u4.length} parties signed the survivor set; the threshold is ${c.threshold}`);
        // every party checks this quorum before it reveals anything: abort here rather than be refused
        const short = lackingQuorum(this.#roster!, this.#u2, new Set(this.#u4));
        if (short) this.#fail(`only ${short.signed} holders of ${short.party}'s shares signed the survivor set; the threshold is ${c.threshold}`);
        this.#step = "unmask";
        return;
      }
      case "unmask": {
        this.#unmaskSum();
        return;
      }
      default:
        return;
    }
  }

  /** Removes the dropped parties' pairwise masks and the survivors' self-masks (Figure 4, Round 4, server side). */
  #unmaskSum(): void {
    const r = this.#roster!;
    const c = this.config;
    const sum = this.#sum!;
    const coeffs = new Map<string, bigint[]>();
    const reconstruct = (of: string, kind: "seeds" | "keys"): Buffer => {
      const shares: Share[] = [];
      for (const [holder, a] of this.#answers) {
        const s = a[kind].find((x) => x.of === of);
        if (s) shares.push({ x: r.index.get(holder)! + 1, y: unb64(s.y, "revealed share", ELEMENT_BYTES) });
        if (shares.length === c.threshold) break;
      }
      if (shares.length < c.threshold)
        this.#fail(`only ${shares.length} holders revealed their share of ${of}'s ${kind === "seeds" ? "seed" : "key"}; the threshold is ${c.threshold}`);
      const xsKey = shares.map((s) => s.x).join(",");
      if (!coeffs.has(xsKey)) coeffs.set(xsKey, lagrangeAtZero(shares.map((s) => s.x)));
      try {
        return combine(shares, c.threshold, 32, coeffs.get(xsKey));
      } catch (e) {
        // a wrong share (a replay, a lying holder) can combine to an element too large for a secret: abort, never leave a half-unmasked sum
        return this.#fail(
          `the shares of ${of}'s ${kind === "seeds" ? "seed" : "key"} do not reconstruct (a holder sent a wrong share): ${(e as Error).message}`,
        );
      }
    };
    for (const v of this.#u2.filter((p) => !this.#masked.has(p))) {
      const vi = r.index.get(v)!;
      const sk = reconstruct(v, "keys");
      if (!publicOf(sk).equals(r.parties[vi].sPk)) this.#fail(`the shares of ${v}'s key do not reconstruct its advertised key (a holder sent a wrong share)`);
      for (const ui of r.graph.neighbours[vi]) {
        const u = r.parties[ui];
        if (!this.#masked.has(u.party)) continue;
        const k = agree(sk, u.sPk, r.digest, INFO.pairwise);
        // u added +PRG(s_uv) if it precedes v, −PRG otherwise: take it out
        if (ui < vi) subMask(sum, k);
        else addMask(sum, k);
        k.fill(0);
      }
      sk.fill(0);
    }
    for (const u of this.#u3) {
      const b = reconstruct(u, "seeds");
      if (!seedCommitment(c.round, u, b).equals(r.parties[r.index.get(u)!].seedCommit))
        this.#fail(`the shares of ${u}'s seed do not match its commitment (a holder sent a wrong share)`);
      const selfKey = selfMaskKey(b, r.digest);
      subMask(sum, selfKey);
      selfKey.fill(0);
      b.fill(0);
    }
    const real = dequantizeSum(sum, this.#u3.length, c.quantization);
    sum.fill(0);
    this.#sum = undefined;
    const digest = createHash("sha256")
      .update(Buffer.from(real.buffer, real.byteOffset, real.byteLength))
      .digest("hex");
    this.#result = { round: c.round, included: this.#u3, sum: real, digest, errorBound: (this.#u3.length * c.quantization.clip) / (c.quantization.levels - 1) };
    this.#step = "done";
  }

  summary(): RoundSummary {
    return {
      round: this.config.round,
      step: this.#step,
      graph: this.config.graph,
      threshold: this.config.threshold,
      dim: this.config.dim,
      advertised: [...this.#ads.keys()].sort(),
      shared: [...this.#shares.keys()].sort(),
      masked: [...this.#masked].sort(),
      signed: [...this.#signatures.keys()].sort(),
      unmasked: [...this.#answers.keys()].sort(),
      ...(this.#u3Payload ? { consistencyDigest: consistencyDigest(this.#u3Payload) } : {}),
      ...(this.#result ? { resultDigest: this.#result.digest } : {}),
      ...(this.#abort ? { abort: this.#abort } : {}),
    };
  }
}
