/**
 * A real key service for tests: a keystore with a CA (src/pki/ca), certificates for the
 * server and for callers of each role, a policy, and `startKeyService` on 127.0.0.1 over mTLS.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { RemoteKeyring, type RemoteKeyringOptions } from "../../src/client/index.js";
import { parseConfig } from "../../src/server/config.js";
import { type RunningKeyService, type StartOptions, startKeyService } from "../../src/server/server.js";
import { CLI } from "../cli/run-cli.js";

export const TD = "spiffe://acme.internal";
export const WHO = {
  admin: `${TD}/prod/key-admin`,
  pa1: `${TD}/prod/pa-carol`,
  pa2: `${TD}/prod/pa-dave`,
  trainer: `${TD}/prod/trainer`,
  devTrainer: `${TD}/dev/trainer`,
  auditor: `${TD}/prod/auditor`,
  stranger: `${TD}/prod/stranger`,
} as const;
export type Who = keyof typeof WHO;

export const POLICY = `version: 1
groups:
  policy-admins: ["${WHO.pa1}", "${WHO.pa2}"]
  key-admins: ["${WHO.admin}"]
  workloads: ["${TD}/*/trainer"]
bindings:
  - { group: policy-admins, role: policy-admin }
  - { group: key-admins, role: key-admin }
  - { group: workloads, role: workload }
  - { identity: "${WHO.auditor}", role: auditor }
rules:
  - { id: policy, group: policy-admins, operations: [policy.propose, policy.approve, key.list, token.mint] }
  - { id: ops, group: key-admins, operations: "*", keys: ["**"] }
  - { id: ops-unkeyed, group: key-admins, operations: [key.list, token.mint] }
  - { id: train, group: workloads, operations: [datakey.generate, datakey.generate-plaintext, unwrap, rewrap, encrypt, decrypt, sign, verify, hmac, key.show], keys: ["prod/**", "dev/**", "shared/**"] }
  - { id: train-unkeyed, group: workloads, operations: [key.list, token.mint] }
  - { id: audit, identity: "${WHO.auditor}", operations: [audit.read, key.list] }
`;

/** POLICY with `audit.export` for the auditor (the built-in auditor role is the only one that may ever hold it). */
export const POLICY_EXPORT = POLICY.replace("operations: [audit.read, key.list]", "operations: [audit.read, audit.export, key.list, token.mint]");

/** The built CLI as a child process, asynchronously: a service under test in this process must keep answering (no spawnSync). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"], ...options });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}

export interface Harness {
  readonly dir: string;
  readonly home: string;
  readonly svc: RunningKeyService;
  readonly certs: Record<Who | "server" | "foreign", string>;
  keyring(who: Who, options?: Partial<RemoteKeyringOptions>): RemoteKeyring;
  close(): Promise<void>;
}

/** A CA-less foreign client certificate folder (another CA) is made too, under certs.foreign. */
export async function startHarness(
  options: StartOptions & {
    keys?: string[];
    policy?: string;
    config?: string;
    postgresUrl?: string;
    beforeStart?: (dir: string, certs: Record<Who | "server" | "foreign", string>) => Promise<void>;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), "pipeseal-ks-"));
  const home = path.join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "setup" });
  const certs = {} as Record<Who | "server" | "foreign", string>;
  try {
    await initCa(ks, { trustDomain: "acme.internal" });
    const server = await issueCertificate(ks, { service: "keys", env: "prod", dns: ["localhost"], ip: ["127.0.0.1"] });
    certs.server = path.join(dir, "certs", "server");
    await writeCertDir(certs.server, server);
    for (const [who, id] of Object.entries(WHO) as [Who, string][]) {
      const [, env, service] = /\/([^/]+)\/([^/]+)$/.exec(id)!;
      const c = await issueCertificate(ks, { service: service!, env: env!, client: true, ttlSeconds: 3600 });
      certs[who] = path.join(dir, "certs", who);
      await writeCertDir(certs[who], c);
    }
    if (!options.postgresUrl) for (const k of options.keys ?? ["prod/datasets/raw", "dev/datasets/raw", "shared/small"]) ks.createKey(k);
  } finally {
    ks.close();
  }
  // a second CA whose client has a valid-looking identity
  const otherHome = path.join(dir, "other");
  await initKeystore(otherHome);
  const other = await openKeystore(otherHome, { principal: "setup" });
  try {
    await initCa(other, { trustDomain: "acme.internal" });
    certs.foreign = path.join(dir, "certs", "foreign");
    await writeCertDir(certs.foreign, await issueCertificate(other, { service: "trainer", env: "prod", client: true }));
  } finally {
    other.close();
  }
  writeFileSync(path.join(dir, "policy.yaml"), options.policy ?? POLICY);
  const store = options.postgresUrl ? `{ kind: postgres, url: "${options.postgresUrl}", home: ks, create: true }` : "{ kind: sqlite, home: ks }";
  const config =
    options.config ??
    `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/*/*"]\nkeyringId: ks:test\nstore: ${store}\npolicy: policy.yaml\ntokenTtl: 15m\n`;
  writeFileSync(path.join(dir, "keyservice.yaml"), config);
  await options.beforeStart?.(dir, certs);
  const svc = await startKeyService(parseConfig(config, dir), options);
  if (options.postgresUrl) for (const k of options.keys ?? ["prod/datasets/raw", "dev/datasets/raw", "shared/small"]) await svc.store.createKey("setup", k);
  const open: RemoteKeyring[] = [];
  return {
    dir,
    home,
    svc,
    certs,
    keyring(who, o = {}) {
      const kr = new RemoteKeyring({ url: svc.url, certDir: certs[who], id: "ks:test", retry: { attempts: 2, baseMs: 5 }, timeoutMs: 5000, ...o });
      open.push(kr);
      return kr;
    },
    async close() {
      for (const kr of open) await kr.close().catch(() => undefined);
      await svc.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
