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
      const c = await issueCertificate(ks, o.server ? { service, env, server: true, client: true, dns: ["localhost"], ip: ["127.0.0.1"] } : { service, env, client: true });
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
