/**
 * KeySource adapters: the local keystore and the key-service client seen through the same
 * read-only interface. Nothing here creates, rotates, unwraps or writes.
 */
import type { RemoteKeyring } from "../../client/remote-keyring.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { openAlertsByKey } from "../../monitor/store/alerts.js";
import type { KeySource } from "../types.js";

/** A KeySource over an open local keystore (the caller keeps ownership and closes it). */
export function keystoreSource(ks: LocalKeystore, home: string): KeySource {
  return {
    kind: "keystore",
    location: home,
    listKeys: async () => ks.listKeys(),
    listAudit: async (sinceMs) => ks.listAudit(sinceMs === undefined ? {} : { sinceMs }),
    verifyAudit: async () => ks.verifyAudit(),
    activePolicy: async () => null,
    openAlerts: async () => {
      const out = new Map<string, { id: string; detection: string; severity: string; principal: string; time: string }[]>();
      for (const [key, alerts] of openAlertsByKey(ks))
        if (key !== null)
          out.set(
            key,
            alerts.map((a) => ({ id: a.id, detection: a.detection, severity: a.severity, principal: a.principal, time: a.time })),
          );
      return out;
    },
  };
}

/** A KeySource over the key service (needs key.list, audit.read, audit.verify and policy.propose-or-show rights). */
export function serviceSource(remote: RemoteKeyring, url: string): KeySource {
  return {
    kind: "service",
    location: url,
    listKeys: () => remote.listKeys(),
    listAudit: (sinceMs) => remote.listAudit(sinceMs === undefined ? {} : { sinceMs }),
    verifyAudit: () => remote.verifyAudit(),
    activePolicy: async () => (await remote.client.call<{ active: { yaml?: string } | null }>("GET", "/v1/policy")).active?.yaml ?? null,
  };
}
