/**
 * Stage 1, keys and identities: the keystore's named keys (one per store, rotation due in
 * 90 days), an internal CA with a short-lived certificate per service, and a key-service
 * policy with separation of duties whose decisions the demo checks (a workload unwraps, a key
 * administrator never does, an unknown identity gets nothing).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { initCa, issueCertificate, writeCertDir } from "../pki/ca/index.js";
import { decide, parsePolicy } from "../server/policy/index.js";
import { type Demo, check, shown, spiffe } from "./context.js";

const DAY = 86400;

/** Every store's key: what the posture map and the evidence expect each file to be sealed under. */
export const KEYS = {
  landing: "prod/landing/events",
  fieldsPii: "prod/fields/pii",
  fieldsTok: "prod/fields/tokens",
  features: "prod/features/customers",
  training: "prod/datasets/training",
  corpus: "prod/rag/support",
  models: "prod/models/churn",
  logs: "prod/logs",
  decoy: "prod/datasets/archive",
} as const;

/** Services with a certificate: servers get localhost/127.0.0.1 names, clients a client EKU. */
export const SERVERS = ["ingest", "gateway", "inference"] as const;
export const CLIENTS = ["producer", "trainer", "scorer", "posture", "trainer-rogue"] as const;

export function demoPolicy(d: Demo): string {
  return `# The key-service policy of the demo pipeline (docs/policy.md): separation of duties.
version: 1
environments: [prod]
groups:
  workloads: ["${spiffe(d, "ingest")}", "${spiffe(d, "etl")}", "${spiffe(d, "trainer")}", "${spiffe(d, "gateway")}", "${spiffe(d, "inference")}"]
  key-admins: ["${spiffe(d, "ops-alice")}"]
bindings:
  - { group: workloads, role: workload }
  - { group: key-admins, role: key-admin }
  - { identity: "${spiffe(d, "auditor")}", role: auditor }
rules:
  - id: workloads-use-keys
    group: workloads
    operations: [datakey.generate, unwrap, encrypt, decrypt, sign, verify, key.show]
    keys: ["prod/**"]
  - id: key-admins-manage
    group: key-admins
    operations: "*"
    keys: ["**"]
  - id: auditor
    identity: "${spiffe(d, "auditor")}"
    operations: [audit.read, audit.export, key.list]
`;
}

export async function keysStage(d: Demo): Promise<void> {
  const { ks } = d;
  for (const name of Object.values(KEYS)) if (name !== KEYS.logs) ks.createKey(name, { rotateEverySeconds: 90 * DAY });
  d.say(`${Object.keys(KEYS).length} named keys in the keystore (${shown(d.dir.home)}), one per store, rotation every 90 days; the root key never leaves it`);

  await initCa(ks, { name: "pipeseal demo", trustDomain: d.trustDomain, maxTtlSeconds: DAY });
  for (const s of SERVERS) await writeCertDir(d.dir.certs(s), await issueCertificate(ks, { service: s, env: "prod", dns: ["localhost"], ip: ["127.0.0.1"], ttlSeconds: 8 * 3600 }));
  for (const c of CLIENTS) await writeCertDir(d.dir.certs(c), await issueCertificate(ks, { service: c, env: "prod", client: true, ttlSeconds: 3600 }));
  d.say(`CA for spiffe://${d.trustDomain}; certificates for ${SERVERS.length} servers (8 h) and ${CLIENTS.length} clients (1 h), CA keys sealed in the keystore`);

  const text = demoPolicy(d);
  const policy = parsePolicy(text);
  writeFileSync(path.join(d.dir.root, "policy.yaml"), text);
  const now = new Date();
  const can = (who: string, operation: string, keyName?: string) => decide(policy, { principal: spiffe(d, who), operation, ...(keyName ? { keyName } : {}), now }).allowed;
  check(can("trainer", "unwrap", KEYS.training), "policy: the trainer must be able to unwrap its training key");
  check(!can("ops-alice", "unwrap", KEYS.training), "policy: a key administrator must never unwrap");
  check(can("ops-alice", "key.rotate", KEYS.training), "policy: a key administrator must be able to rotate");
  check(!can("rogue", "unwrap", KEYS.training), "policy: an unknown identity must get nothing");
  check(!can("trainer", "key.destroy", KEYS.training), "policy: a workload must never manage keys");
  d.say("policy.yaml: workloads unwrap, the key admin manages but never unwraps, others get nothing (5 decisions checked)");
  d.row({ stage: "keys & identities", atRest: "root key 0600, KEKs sealed in keystore.db", inTransit: "internal CA, 1 h client certs", inUse: "separation of duties (policy.yaml)" });
}
