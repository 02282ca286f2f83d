/** Reading the CA: its description, the registry, and the PEM to put in trust stores. */
import type { LocalKeystore } from "../../keys/keystore.js";
import { listCertRows, requireCa, toCaInfo, toRecord } from "./store.js";
import type { CaInfo, CertRecord } from "./types.js";

/**
 * The CA's public description.
 * @throws KeyError(CA_NOT_INITIALIZED)
 */
export function caInfo(ks: Pick<LocalKeystore, "readTables">): CaInfo {
  return toCaInfo(requireCa(ks));
}

/**
 * Every certificate the CA issued, oldest first, with its status at `now`
 * (valid, expired, revoked, superseded).
 * @example for (const c of listCertificates(ks)) console.log(c.serial, c.identity, c.status);
 * @throws KeyError(CA_NOT_INITIALIZED)
 */
export function listCertificates(ks: Pick<LocalKeystore, "readTables">, options: { now?: number } = {}): CertRecord[] {
  requireCa(ks);
  const nowMs = options.now ?? Date.now();
  return ks.readTables(listCertRows).map((row) => toRecord(row, nowMs));
}

/**
 * PEM for trust stores: the root then the issuing CA (`rootOnly` for the root alone).
 * @throws KeyError(CA_NOT_INITIALIZED)
 */
export function exportCaPem(ks: LocalKeystore, options: { rootOnly?: boolean } = {}): string {
  const ca = requireCa(ks);
  return options.rootOnly ? `${ca.root_cert.trim()}\n` : `${ca.root_cert.trim()}\n${ca.issuing_cert.trim()}\n`;
}
