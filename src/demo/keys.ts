/**
 * Stage 1, keys and identities: the keystore's named keys (one per store, rotation due in
 * 90 days), an internal CA with a short-lived certificate per service, and a key-service
 * policy with separation of duties whose decisions the demo checks (a workload unwraps, a key
 * administrator never does, an unknown identity gets nothing).
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { initCa, issueCertificate, writeCertDir } from "../pki/ca/index.js";
import { decide, parsePolicy } from "../server/policy/index.js";
import { type Demo, check, shown, spiffe } from "./context.js";
import { KEY_SERVICE, startDemoKeyService } from "./key-service.js";

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
  const id = (service: string) => `"${spiffe(d, service)}"`;
  return `# The key-service policy of the demo pipeline (docs/policy.md): separation of duties.
version: 1
environments: [prod]
groups:
  workloads: [${id("ingest")}, ${id("etl")}, ${id("inference")}]
  # trainer-rogue is a second training identity: the demo plays its certificate stolen
  trainers: [${id("trainer")}, ${id("trainer-rogue")}]
  key-admins: [${id("ops-alice")}]
bindings:
  - { group: workloads, role: workload }
  - { group: trainers, role: workload }
  - { group: key-admins, role: key-admin }
  - { identity: ${id("auditor")}, role: auditor }
rules:
  - id: workloads-use-keys
    group: workloads
    operations: [datakey.generate, unwrap, encrypt, decrypt, sign, verify, key.show]
    keys: ["prod/**"]
  - id: trainers-read-datasets
    group: trainers
    operations: [unwrap, key.show]
    keys: ["prod/datasets/**"]
  - id: trainers-read-tracking-token
    group: trainers
    operations: [secret.read]
    keys: ["secrets/tracking"]
  - id: key-admins-manage
    group: key-admins
    operations: "*"
    keys: ["**"]
  - id: auditor
    identity: ${id("auditor")}
    operations: [audit.read, audit.export, key.list, key.show]
    keys: ["**"]
delegates:
  # the gateway unwraps only on behalf of a trainer it serves, never for itself
  - id: gateway-for-trainers
    delegate: ${id("gateway")}
    for: trainers
    operations: [unwrap]
    keys: ["prod/datasets/**"]
`;
}

/** The keys a --service run keeps in the key service; the rest stay in the operator's keystore (field and corpus keys never leave one, docs/keyservice.md). */
export const SERVICE_KEYS: readonly string[] = [KEYS.landing, KEYS.features, KEYS.training, KEYS.decoy];
/** Identities only a --service run needs: the key service's callers that are not servers of their own. */
const SERVICE_CLIENTS = ["etl", "ops-alice", "auditor"] as const;

export async function keysStage(d: Demo): Promise<void> {
  const { ks } = d;
  await initCa(ks, { name: "pipeseal demo", trustDomain: d.trustDomain, maxTtlSeconds: DAY });
  // with --service the servers also call the key service, so their certificates are clients too
  const servers = d.withService ? [...SERVERS, KEY_SERVICE] : SERVERS;
  const clients = d.withService ? [...CLIENTS, ...SERVICE_CLIENTS] : CLIENTS;
  for (const s of servers)
    await writeCertDir(
      d.dir.certs(s),
      await issueCertificate(ks, { service: s, env: "prod", dns: ["localhost"], ip: ["127.0.0.1"], server: true, client: d.withService, ttlSeconds: 8 * 3600 }),
    );
  for (const c of clients) await writeCertDir(d.dir.certs(c), await issueCertificate(ks, { service: c, env: "prod", client: true, ttlSeconds: 3600 }));
  d.say(
    `CA for spiffe://${d.trustDomain}; certificates for ${servers.length} servers (8 h) and ${clients.length} clients (1 h), CA keys sealed in the keystore`,
  );

  const text = demoPolicy(d);
  const policy = parsePolicy(text);
  writeFileSync(path.join(d.dir.root, "policy.yaml"), text);
  const now = new Date();
  const can = (who: string, operation: string, keyName?: string) =>
    decide(policy, { principal: spiffe(d, who), operation, ...(keyName ? { keyName } : {}), now }).allowed;
  check(can("trainer", "unwrap", KEYS.training), "policy: the trainer must be able to unwrap its training key");
  check(!can("ops-alice", "unwrap", KEYS.training), "policy: a key administrator must never unwrap");
  check(can("ops-alice", "key.rotate", KEYS.training), "policy: a key administrator must be able to rotate");
  check(!can("rogue", "unwrap", KEYS.training), "policy: an unknown identity must get nothing");
  check(!can("trainer", "key.destroy", KEYS.training), "policy: a workload must never manage keys");
  d.say("policy.yaml: workloads unwrap, the key admin manages but never unwraps, others get nothing (5 decisions checked)");

  const inService = d.withService ? SERVICE_KEYS : [];
  for (const name of Object.values(KEYS)) if (name !== KEYS.logs && !inService.includes(name)) ks.createKey(name, { rotateEverySeconds: 90 * DAY });
  if (d.withService) await serviceKeys(d);
  else
    d.say(`${Object.keys(KEYS).length} named keys in the keystore (${shown(d.dir.home)}), one per store, rotation every 90 days; the root key never leaves it`);
  d.row({
    stage: "keys & identities",
    atRest: d.withService ? "data keys in the key service's store; KEKs sealed" : "root key 0600, KEKs sealed in keystore.db",
    inTransit: "internal CA, 1 h client certs",
    inUse: "separation of duties (policy.yaml)",
  });
}

/** --service: starts the key service, has the key admin create the data keys there, and shows the policy deciding live. */
async function serviceKeys(d: Demo): Promise<void> {
  const svc = await startDemoKeyService(d);
  d.service = svc;
  d.facts.keyServiceUrl = svc.url;
  const admin = await svc.as("ops-alice");
  for (const name of SERVICE_KEYS) await admin.createKey(name, { rotateEverySeconds: 90 * DAY });
  d.say(
    `key service on ${svc.url} (mTLS, SQLite store ${shown(d.dir.keyservice)}, policy.yaml): ${SERVICE_KEYS.length} data keys created there by ${spiffe(d, "ops-alice")}, the other ${Object.keys(KEYS).length - SERVICE_KEYS.length} in the keystore`,
  );
  // the running service decides: the workload's unwrap is released, the key admin's is refused (and both are audited)
  const etl = await svc.as("etl");
  const probe = randomBytes(32);
  const context = { stage: "landing", purpose: "policy-probe" };
  const entry = await etl.wrap(KEYS.landing, probe, context);
  const back = await etl.unwrap(entry, context, { operation: "unwrap", path: "demo/policy-probe" });
  check(back.equals(probe), "key service: the workload's unwrap must return its key");
  back.fill(0);
  probe.fill(0);
  const refused = await admin.unwrap(entry, context, { operation: "unwrap", path: "demo/policy-probe" }).then(
    (k) => (k.fill(0), null),
    (e: { code?: string }) => e.code ?? "error",
  );
  check(refused === "ACCESS_DENIED", `key service: the key admin's unwrap must be denied (got ${refused ?? "the key"})`);
  d.say(`live decisions: ${spiffe(d, "etl")} unwrapped; ${spiffe(d, "ops-alice")} was refused (${refused}), both in the service's audit chain`);
}
