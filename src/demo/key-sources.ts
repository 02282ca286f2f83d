/**
 * Where posture reads the keys from: the keystore, and with --service also the key service
 * (as the auditor). The two hold disjoint keys, each with its own audit chain, so posture sees
 * their union: every key, every record (merged by time), and a verify that passes only when
 * both chains verify. The active policy is the service's bootstrap policy.yaml (the auditor may
 * read the audit, not propose policies, so it cannot ask the service for it).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { keystoreSource, serviceSource, type KeySource } from "../posture/index.js";
import type { Demo } from "./context.js";

export async function demoKeySource(d: Demo): Promise<KeySource> {
  const local = keystoreSource(d.ks, d.dir.home);
  if (!d.service) return local;
  const remote = serviceSource(await d.service.as("auditor"), d.service.url);
  const openAlerts = local.openAlerts?.bind(local);
  const policy = readFileSync(path.join(d.dir.root, "policy.yaml"), "utf8");
  return {
    kind: "service",
    location: `${d.service.url} + ${d.dir.home}`,
    listKeys: async () => [...(await remote.listKeys()), ...(await local.listKeys())],
    listAudit: async (sinceMs) => [...(await remote.listAudit(sinceMs)), ...(await local.listAudit(sinceMs))].sort((a, b) => a.time.localeCompare(b.time)),
    verifyAudit: async () => {
      const [r, l] = [await remote.verifyAudit(), await local.verifyAudit()];
      return { ok: r.ok && l.ok, records: r.records + l.records, problems: [...r.problems, ...l.problems] };
    },
    activePolicy: async () => policy,
    ...(openAlerts ? { openAlerts } : {}),
  };
}
