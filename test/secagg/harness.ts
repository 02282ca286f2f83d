/**
 * A real pipeseal CA (keystore + `pipeseal ca` library) with certificate folders for an
 * aggregator and N parties, as `pipeseal ca issue` writes them, and helpers to run the
 * protocol core in-process.
 */
import path from "node:path";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { type PartyIdentity, loadIdentity } from "../../src/secagg/identity.js";
import type { RoundConfig } from "../../src/secagg/config.js";
import { DEFAULT_QUANTIZATION } from "../../src/secagg/quantize.js";
import { Party } from "../../src/secagg/party.js";
import { wordsToBytes } from "../../src/secagg/prg.js";
import { AggregatorRound } from "../../src/secagg/round.js";
import { tempDir } from "../helpers/keystore.js";

export const TD = "acme.ml";

export interface World {
  dir: string;
  ks: LocalKeystore;
  certs: (name: string) => string;
  /** Issues a client+server certificate for spiffe://acme.ml/<env>/<service> into certs/<service>. */
  issue(service: string, env?: string, o?: { server?: boolean }): Promise<string>;
  identity(service: string): PartyIdentity;
}

export async function makeWorld(): Promise<World> {
  const dir = tempDir("pipeseal-secagg-");
  const home = path.join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "secagg-operator" });
  await initCa(ks, { name: "acme ML", trustDomain: TD });
  const certs = (name: string) => path.join(dir, "certs", name);
  return {
    dir,
    ks,
    certs,
    async issue(service, env = "prod", o = {}) {
      const c = await issueCertificate(
        ks,
        o.server ? { service, env, server: true, client: true, dns: ["localhost"], ip: ["127.0.0.1"] } : { service, env, client: true },
      );
      await writeCertDir(certs(service), c);
      return certs(service);
    },
    identity: (service) => loadIdentity({ certDir: certs(service) }),
  };
}

export const partyName = (i: number): string => `hospital-${String(i).padStart(2, "0")}`;

export function config(round: string, o: Partial<RoundConfig> = {}): RoundConfig {
  return { v: 1, round, dim: 16, threshold: 6, minParties: 8, maxParties: 11, graph: "full", neighbours: 0, quantization: DEFAULT_QUANTIZATION, ...o };
}

/** Deterministic test vectors in [−2, 2]. */
export function vectors(n: number, dim: number, seed = 1): Float32Array[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => next() * 4 - 2));
}

export function plainSum(vs: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]!;
  return out;
}

/** The steps of a round in order (Bonawitz et al. 2017 Figure 4, Rounds 0–4). */
export type Step = "advertise" | "share" | "mask" | "consistency" | "unmask";
export const STEPS: readonly Step[] = ["advertise", "share", "mask", "consistency", "unmask"];

/** An aggregator round and `n` parties of the world's identities `partyName(0..n−1)`, in process. */
export function inProcess(w: World, cfg: RoundConfig, n: number): { round: AggregatorRound; parties: Party[] } {
  const round = new AggregatorRound({ config: cfg, caPem: w.identity(partyName(0)).caPem });
  return { round, parties: Array.from({ length: n }, (_, i) => new Party({ identity: w.identity(partyName(i)) })) };
}

/**
 * Drives `round` with `parties` from `from` (inclusive) to `to` (exclusive); a party in
 * `drop` vanishes before step `at` (it answers nothing from then on). Each step ends with the
 * aggregator closing it.
 */
export function drive(
  round: AggregatorRound,
  parties: readonly Party[],
  inputs: readonly Float32Array[],
  o: { from?: Step; to?: Step; drop?: ReadonlySet<number>; at?: Step } = {},
): void {
  const [from, to] = [STEPS.indexOf(o.from ?? "advertise"), o.to ? STEPS.indexOf(o.to) : STEPS.length];
  const live = (step: Step) => parties.filter((_, i) => !(o.drop?.has(i) && o.at !== undefined && STEPS.indexOf(o.at) <= STEPS.indexOf(step)));
  const cfg = round.config;
  const act: Record<Step, (p: Party) => void> = {
    advertise: (p) => round.advertise(p.id, p.advertise(cfg)),
    share: (p) => round.shares(p.id, p.shareKeys(round.roster())),
    mask: (p) => round.masked(p.id, wordsToBytes(p.maskInput(round.inbox(p.id), inputs[parties.indexOf(p)]!))),
    consistency: (p) => round.consistency(p.id, p.signSurvivors(round.consistencyRequest(p.id))),
    unmask: (p) => round.unmask(p.id, p.unmask(round.unmaskRequest(p.id))),
  };
  for (const step of STEPS.slice(from, to)) {
    for (const p of live(step)) act[step](p);
    round.close();
  }
}

/** A fresh in-process round of `n` parties, driven up to (not including) step `to`, with its inputs. */
export function upTo(w: World, cfg: RoundConfig, n: number, to: Step, seed = 4): { round: AggregatorRound; parties: Party[]; inputs: Float32Array[] } {
  const { round, parties } = inProcess(w, cfg, n);
  const inputs = vectors(n, cfg.dim, seed);
  drive(round, parties, inputs, { to });
  return { round, parties, inputs };
}
