/**
 * One party's side of a round (Bonawitz et al. CCS 2017 §5 Figure 4, user side), free of
 * transport: each step takes what the aggregator sent and returns what to send back, after
 * the checks that keep the party's input private from a lying aggregator:
 * - Round 1: every advertisement is signed by a certificate of our CA for this round and
 *   configuration (no substituted keys, no replay from another round), our own is there
 *   unchanged, and the parties match `peers`;
 * - Round 2: U2 lists us and the shares we hold come exactly from U2's members that chose us;
 * - Round 3: U3 is within U2, lists us and has at least t members; we sign it once per round;
 * - Round 4: the request lists each peer as survivor or dropped, never both, covers exactly
 *   U2, names at least t survivors including us, names exactly the U3 we signed, carries at
 *   least t valid signatures over that U3 (ConsistencyCheck, consistency.ts) and is the only
 *   one answered this round — so no peer's self-mask seed and mask key ever both leave this
 *   party, and honest parties cannot be shown different survivor sets.
 */
import { canonicalConfig, checkConfig, type RoundConfig } from "./config.js";
import { gcmOpen, gcmSeal } from "../crypto/aes-gcm.js";
import { isPipesealError } from "../errors.js";
import { makeAdvertisement } from "./advertise.js";
import { checkSignatures, consistencyPayload, signConsistency } from "./consistency.js";
import { SecaggError } from "./errors.js";
import type { PartyIdentity } from "./identity.js";
import { INFO, agree, generateX25519, randomSeed, seedCommitment, selfMaskKey, type X25519Pair } from "./keys.js";
import { addMask, subMask } from "./prg.js";
import { quantize } from "./quantize.js";
import { type OpenRoster, openRoster } from "./roster.js";
import { split } from "./shamir.js";
import {
  type Advertisement,
  type ConsistencyMessage,
  type ConsistencyRequest,
  type EncryptedShare,
  type Inbox,
  type Roster,
  type SharesMessage,
  type UnmaskRequest,
  type UnmaskResponse,
  b64,
  shareAad,
  unb64,
} from "./wire.js";
import { ELEMENT_BYTES } from "./field.js";

export interface PartyOptions {
  readonly identity: PartyIdentity;
  /** Accepts a peer's SPIFFE ID (default: any identity our CA certified). */
  readonly peers?: (spiffeId: string) => boolean;
  /** Refuse rounds announced with a smaller threshold (default 2). */
  readonly minThreshold?: number;
  /** Refuse SecAgg+ rounds with fewer neighbours (default 2). */
  readonly minNeighbours?: number;
  /** Clock in epoch ms, for certificate validity (tests). */
  readonly now?: () => number;
}

type Step = "new" | "advertised" | "shared" | "masked" | "signed" | "unmasked" | "failed";

interface Held {
  readonly s: Uint8Array;
  readonly b: Uint8Array;
}

export class Party {
  readonly #o: PartyOptions;
  #step: Step = "new";
  #config: RoundConfig | undefined;
  #c: X25519Pair | undefined;
  #s: X25519Pair | undefined;
  #seed: Buffer | undefined;
  #ad: Advertisement | undefined;
  #roster: OpenRoster | undefined;
  #me = -1;
  #own: Held | undefined;
  /** Shares of peers' secrets we hold, by peer. */
  readonly #held = new Map<string, Held>();
  #u2: Set<string> | undefined;
  /** The U3 we signed in Round 3, and the exact bytes signed. */
  #u3: { readonly set: ReadonlySet<string>; readonly payload: Buffer } | undefined;

  constructor(options: PartyOptions) {
    this.#o = options;
  }

  get id(): string {
    return this.#o.identity.spiffeId;
  }

  get step(): Step {
    return this.#step;
  }

  /** Runs one step: a failure wipes every secret and the party is out of the round. */
  #run<T>(from: Step, to: Step, work: () => T): T {
    if (this.#step !== from)
      this.#refuse(this.#step === "unmasked" ? "SECAGG_UNSAFE_REQUEST" : "SECAGG_PROTOCOL", `a ${to} step was asked of a party that is ${this.#step}`, false);
    try {
      const out = work();
      this.#step = to;
      return out;
    } catch (e) {
      this.wipe();
      this.#step = "failed";
      throw isPipesealError(e) ? e : new SecaggError("SECAGG_PROTOCOL", (e as Error).message, { cause: e });
    }
  }

  /** Refuses a request out of order; `wipe` when answering it could have helped an attack (the party is then out of the round). */
  #refuse(code: "SECAGG_PROTOCOL" | "SECAGG_UNSAFE_REQUEST" | "SECAGG_INCONSISTENT", message: string, wipe: boolean): never {
    if (wipe) {
      this.wipe();
      this.#step = "failed";
    }
    throw new SecaggError(code, message);
  }

  /** Round 0: fresh keys and seed; the signed advertisement to post. @throws SecaggError(SECAGG_PROTOCOL) for a config we refuse */
  advertise(config: RoundConfig): Advertisement {
    return this.#run("new", "advertised", () => {
      checkConfig(config);
      if (config.threshold < (this.#o.minThreshold ?? 2))
        throw new SecaggError("SECAGG_PROTOCOL", `the round's threshold ${config.threshold} is below this party's minimum`);
      if (config.graph === "plus" && config.neighbours < (this.#o.minNeighbours ?? 2))
        throw new SecaggError("SECAGG_PROTOCOL", `the round's ${config.neighbours} neighbours are below this party's minimum`);
      this.#config = config;
      this.#c = generateX25519();
      this.#s = generateX25519();
      this.#seed = randomSeed();
      this.#ad = makeAdvertisement(this.#o.identity, config, {
        cPk: this.#c.publicKey,
        sPk: this.#s.publicKey,
        seedCommit: seedCommitment(config.round, this.id, this.#seed),
      });
      return this.#ad;
    });
  }

  /** Round 1: verify the roster; Shamir-share s^SK and b to our holders, each encrypted to its c key. */
  shareKeys(roster: Roster): SharesMessage {
    return this.#run("advertised", "shared", () => {
      const config = this.#config!;
      if (canonicalConfig(roster.config) !== canonicalConfig(config)) throw new SecaggError("SECAGG_PROTOCOL", "the roster is for other round parameters");
      const r = openRoster(config, roster.advertisements, this.#o.identity.caPem, (this.#o.now ?? Date.now)());
      const me = r.index.get(this.id);
      if (me === undefined) throw new SecaggError("SECAGG_PROTOCOL", "the roster does not list this party");
      const mine = r.parties[me].ad;
      if (mine.payload !== this.#ad!.payload || mine.sig !== this.#ad!.sig)
        throw new SecaggError("SECAGG_PROTOCOL", "the roster carries a changed advertisement of this party");
      const peers = this.#o.peers;
      for (const p of r.parties)
        if (peers && p.party !== this.id && !peers(p.party))
          throw new SecaggError("SECAGG_PROTOCOL", `the roster lists ${p.party}, which this party does not accept as a peer`);
      this.#roster = r;
      this.#me = me;
      const holders = r.graph.holders[me];
      const xs = holders.map((h) => h + 1);
      const sShares = split(this.#s!.privateKey, xs, config.threshold);
      const bShares = split(this.#seed!, xs, config.threshold);
      const shares: EncryptedShare[] = [];
      holders.forEach((h, i) => {
        const plain = Buffer.concat([sShares[i].y, bShares[i].y]);
        if (h === me) {
          this.#own = { s: sShares[i].y, b: bShares[i].y };
          return;
        }
        const to = r.parties[h];
        const key = agree(this.#c!.privateKey, to.cPk, r.digest, INFO.shareKey);
        shares.push({ from: this.id, to: to.party, ct: b64(gcmSeal(key, plain, shareAad(config.round, this.id, to.party, r.digest))) });
        key.fill(0);
        plain.fill(0);
      });
      return { round: config.round, from: this.id, shares };
    });
  }

  /**
   * Round 2: open the shares we hold, then mask our quantized input:
   * y = q(x) + PRG(b) + Σ_{v ∈ U2 ∩ N(u)} ±PRG(s_{u,v}) mod 2^32 (+ when u precedes v).
   * @throws SecaggError(SECAGG_PROTOCOL | SECAGG_ABORTED)
   */
  maskInput(inbox: Inbox, input: ArrayLike<number>): Uint32Array {
    return this.#run("shared", "masked", () => {
      const r = this.#roster!;
      const config = r.config;
      if (inbox.round !== config.round) throw new SecaggError("SECAGG_PROTOCOL", "the inbox belongs to another round (a replay)");
      if (input.length !== config.dim) throw new SecaggError("SECAGG_PROTOCOL", `the input has ${input.length} values; the round's dimension is ${config.dim}`);
      const u2 = new Set(inbox.u2);
      for (const p of u2) if (!r.index.has(p)) throw new SecaggError("SECAGG_PROTOCOL", `U2 lists ${p}, who did not advertise`);
      if (!u2.has(this.id)) throw new SecaggError("SECAGG_PROTOCOL", "U2 does not list this party");
      const myHolders = r.graph.holders[this.#me].filter((h) => u2.has(r.parties[h].party));
      if (u2.size < config.threshold || myHolders.length < config.threshold)
        throw new SecaggError("SECAGG_ABORTED", `only ${myHolders.length} holders of this party's shares remain; ${config.threshold} needed`);
      // we hold a share of every U2 member whose holders include us, and of nobody else
      const expected = new Set(
        r.graph.holders.flatMap((hs, u) => (u !== this.#me && hs.includes(this.#me) && u2.has(r.parties[u].party) ? [r.parties[u].party] : [])),
      );
      if (inbox.shares.length !== expected.size) throw new SecaggError("SECAGG_PROTOCOL", "the inbox does not hold exactly one share from each U2 peer");
      for (const e of inbox.shares) {
        if (e.to !== this.id || !expected.has(e.from) || this.#held.has(e.from))
          throw new SecaggError("SECAGG_PROTOCOL", "the inbox holds a share from an unexpected sender or for another party");
        const from = r.parties[r.index.get(e.from)!];
        const key = agree(this.#c!.privateKey, from.cPk, r.digest, INFO.shareKey);
        let plain: Buffer;
        try {
          plain = gcmOpen(key, unb64(e.ct, "share ciphertext"), shareAad(config.round, e.from, this.id, r.digest));
        } catch {
          throw new SecaggError("SECAGG_PROTOCOL", `the share from ${e.from} does not authenticate`);
        } finally {
          key.fill(0);
        }
        if (plain.length !== 2 * ELEMENT_BYTES) throw new SecaggError("SECAGG_PROTOCOL", `the share from ${e.from} is malformed`);
        this.#held.set(e.from, { s: plain.subarray(0, ELEMENT_BYTES), b: plain.subarray(ELEMENT_BYTES) });
      }
      this.#held.set(this.id, this.#own!);
      this.#u2 = u2;
      const y = quantize(input, config.quantization);
      const selfKey = selfMaskKey(this.#seed!, r.digest);
      addMask(y, selfKey);
      selfKey.fill(0);
      for (const v of r.graph.neighbours[this.#me]) {
        const peer = r.parties[v];
        if (!u2.has(peer.party)) continue; // dropped before sharing: never masked with
        const k = agree(this.#s!.privateKey, peer.sPk, r.digest, INFO.pairwise);
        if (this.#me < v) addMask(y, k);
        else subMask(y, k);
        k.fill(0);
      }
      return y;
    });
  }

  /**
   * Round 3 (ConsistencyCheck): sign the survivor set U3 the aggregator shows us, once per
   * round: a second signature could vouch for a second view of U3.
   * @throws SecaggError(SECAGG_PROTOCOL | SECAGG_UNSAFE_REQUEST | SECAGG_INCONSISTENT)
   */
  signSurvivors(req: ConsistencyRequest): ConsistencyMessage {
    if (this.#step === "signed" || this.#step === "unmasked")
      this.#refuse(
        "SECAGG_INCONSISTENT",
        "this party already signed a survivor set U3 in this round; a second signature could vouch for another view of U3",
        true,
      );
    return this.#run("masked", "signed", () => {
      const r = this.#roster!;
      const config = r.config;
      if (req.round !== config.round) throw new SecaggError("SECAGG_PROTOCOL", "the consistency request belongs to another round (a replay)");
      const u3 = new Set(req.u3);
      for (const p of u3) if (!this.#u2!.has(p)) throw new SecaggError("SECAGG_PROTOCOL", `U3 lists ${p}, who is not in U2`);
      if (!u3.has(this.id)) throw new SecaggError("SECAGG_PROTOCOL", "U3 does not list this party, but it sent its masked input");
      if (u3.size < config.threshold)
        throw new SecaggError("SECAGG_UNSAFE_REQUEST", `U3 names ${u3.size} survivors; a sum of fewer than ${config.threshold} inputs is never released`);
      const payload = consistencyPayload(config.round, r.digest, u3);
      this.#u3 = { set: u3, payload };
      return { round: config.round, from: this.id, sig: signConsistency(this.#o.identity.key, payload) };
    });
  }

  /**
   * Round 4: reveal, for each peer whose shares we hold, the b share if it survived or the
   * s^SK share if it dropped — never both, only once per round, and only after the
   * consistency check passed.
   * @throws SecaggError(SECAGG_UNSAFE_REQUEST) for a request that would reveal a peer's input;
   *   SecaggError(SECAGG_INCONSISTENT) when the signatures do not vouch for the U3 this party signed
   */
  unmask(req: UnmaskRequest): UnmaskResponse {
    if (this.#step === "unmasked")
      throw new SecaggError(
        "SECAGG_UNSAFE_REQUEST",
        "this party already answered an unmasking request in this round; a second one could ask for the other share of a peer",
      );
    if (this.#step === "masked")
      this.#refuse("SECAGG_INCONSISTENT", "the aggregator asked for the unmasking before the consistency check (this party has signed no survivor set)", true);
    return this.#run("signed", "unmasked", () => {
      const r = this.#roster!;
      const config = r.config;
      if (req.round !== config.round) throw new SecaggError("SECAGG_PROTOCOL", "the unmasking request belongs to another round (a replay)");
      const survivors = new Set(req.survivors);
      const dropped = new Set(req.dropped);
      for (const p of survivors)
        if (dropped.has(p)) throw new SecaggError("SECAGG_UNSAFE_REQUEST", `the aggregator asked for both shares of ${p} (listed as survivor and dropped)`);
      const u2 = this.#u2!;
      if (survivors.size + dropped.size !== u2.size || ![...survivors, ...dropped].every((p) => u2.has(p)))
        throw new SecaggError("SECAGG_UNSAFE_REQUEST", "the unmasking request does not partition U2 into survivors and dropped parties");
      if (!survivors.has(this.id))
        throw new SecaggError("SECAGG_UNSAFE_REQUEST", "the unmasking request lists this party as dropped, but it sent its masked input");
      if (survivors.size < config.threshold)
        throw new SecaggError(
          "SECAGG_UNSAFE_REQUEST",
          `the unmasking request names ${survivors.size} survivors; a sum of fewer than ${config.threshold} inputs is never released`,
        );
      // ConsistencyCheck (Figure 4, Round 4 user side): the U3 we signed, vouched for by ≥ t signers
      const signed = this.#u3!;
      if (survivors.size !== signed.set.size || ![...survivors].every((p) => signed.set.has(p)))
        throw new SecaggError(
          "SECAGG_INCONSISTENT",
          "consistency check failed: the unmasking request names other survivors than the U3 this party signed; nothing was revealed",
        );
      checkSignatures(r, signed.set, signed.payload, req.signatures, this.#held.keys());
      const seeds = [];
      const keys = [];
      for (const [peer, held] of this.#held) {
        if (survivors.has(peer)) seeds.push({ of: peer, y: b64(held.b) });
        else keys.push({ of: peer, y: b64(held.s) });
      }
      this.wipe();
      return { round: config.round, from: this.id, seeds, keys };
    });
  }

  /** Overwrites every secret this party holds (keys, seed, held shares). */
  wipe(): void {
    this.#c?.privateKey.fill(0);
    this.#s?.privateKey.fill(0);
    this.#seed?.fill(0);
    for (const h of this.#held.values()) {
      (h.s as Buffer).fill(0);
      (h.b as Buffer).fill(0);
    }
    this.#held.clear();
  }
}
