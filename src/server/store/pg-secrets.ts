/**
 * Secret rows on PostgreSQL (the rules are in src/server/secrets.ts, shared with SQLite):
 * a new version and its audit record in one transaction, the secret row locked FOR UPDATE
 * so two replicas adding a version at once cannot both take the same number.
 */
import type { PoolClient } from "pg";
import { KeyError } from "../../errors.js";
import { type NewSecretVersion, type SecretRow, type SecretStateChange, type SecretVersionRow, plannedState } from "../../secrets/rows.js";
import { type AuditMac, appendAuditTx } from "./pg-audit.js";
import type { Principal, SecretEvent, SecretRows } from "./types.js";

const num = <T extends Record<string, unknown>>(r: T, keys: readonly string[]): T => {
  const out: Record<string, unknown> = { ...r };
  for (const k of keys) if (out[k] !== null && out[k] !== undefined) out[k] = Number(out[k]);
  return out as T;
};
const secretOf = (r: SecretRow) =>
  num(r as unknown as Record<string, unknown>, ["primary_version", "created_at", "last_read_at", "last_read_version"]) as unknown as SecretRow;
const versionOf = (r: SecretVersionRow) =>
  num(r as unknown as Record<string, unknown>, ["version", "key_version", "created_at", "destroyed_at"]) as unknown as SecretVersionRow;

export async function putSecretVersionTx(
  c: PoolClient,
  mac: AuditMac,
  principal: Principal,
  v: NewSecretVersion,
  event: SecretEvent,
  now: number,
): Promise<boolean> {
  if (v.version === 1) {
    const made = await c.query("INSERT INTO secrets (name, primary_version, created_at, created_by) VALUES ($1, 1, $2, $3) ON CONFLICT (name) DO NOTHING", [
      v.name,
      v.at,
      v.by,
    ]);
    if (made.rowCount !== 1) return false;
  } else {
    const row = (await c.query<{ primary_version: string }>("SELECT primary_version FROM secrets WHERE name = $1 FOR UPDATE", [v.name])).rows[0];
    if (row === undefined) return false;
    const max = (await c.query<{ v: string | null }>("SELECT MAX(version) AS v FROM secret_versions WHERE name = $1", [v.name])).rows[0]?.v;
    if (Number(max ?? 0) + 1 !== v.version) return false;
    await c.query("UPDATE secrets SET primary_version = $1 WHERE name = $2", [v.version, v.name]);
  }
  await c.query(
    "INSERT INTO secret_versions (name, version, state, keyring, key_name, key_version, wrapped_dek, sealed, created_at, created_by) VALUES ($1, $2, 'enabled', $3, $4, $5, $6, $7, $8, $9)",
    [v.name, v.version, v.keyring, v.keyName, v.keyVersion, Buffer.from(v.wrapped), v.sealed, v.at, v.by],
  );
  await appendAuditTx(c, mac, { ...event, principal, outcome: "ok" }, now);
  return true;
}

export async function secretRowsPg(c: PoolClient, name?: string): Promise<SecretRows[]> {
  const secrets = (
    await c.query<SecretRow>(
      name === undefined ? "SELECT * FROM secrets ORDER BY name" : "SELECT * FROM secrets WHERE name = $1",
      name === undefined ? [] : [name],
    )
  ).rows.map(secretOf);
  if (secrets.length === 0) return [];
  const versions = (
    await c.query<SecretVersionRow>("SELECT * FROM secret_versions WHERE name = ANY($1) ORDER BY name, version", [secrets.map((s) => s.name)])
  ).rows.map(versionOf);
  return secrets.map((secret) => ({ secret, versions: versions.filter((v) => v.name === secret.name) }));
}

export async function markSecretReadTx(
  c: PoolClient,
  mac: AuditMac,
  principal: Principal,
  name: string,
  version: number,
  purpose: string,
  event: SecretEvent,
  now: number,
): Promise<void> {
  await c.query("UPDATE secrets SET last_read_at = $1, last_read_by = $2, last_read_for = $3, last_read_version = $4 WHERE name = $5", [
    now,
    principal,
    purpose,
    version,
    name,
  ]);
  await appendAuditTx(c, mac, { ...event, principal, outcome: "ok" }, now);
}

/** One state change (rows.ts `plannedState` decides each version) and its record; the secret row is locked. */
export async function changeSecretStateTx(
  c: PoolClient,
  mac: AuditMac,
  principal: Principal,
  name: string,
  version: number | "all",
  change: SecretStateChange,
  event: SecretEvent,
  now: number,
): Promise<void> {
  const secret = (await c.query<SecretRow>("SELECT * FROM secrets WHERE name = $1 FOR UPDATE", [name])).rows.map(secretOf)[0];
  if (secret === undefined) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}`);
  const versions = (await c.query<SecretVersionRow>("SELECT * FROM secret_versions WHERE name = $1 ORDER BY version", [name])).rows.map(versionOf);
  for (const n of version === "all" ? versions.map((v) => v.version) : [version]) {
    const state = plannedState(
      change,
      secret,
      n,
      versions.find((v) => v.version === n),
      version === "all",
    );
    if (state === "destroyed")
      await c.query(
        "UPDATE secret_versions SET state = 'destroyed', wrapped_dek = NULL, sealed = NULL, destroyed_at = COALESCE(destroyed_at, $1) WHERE name = $2 AND version = $3",
        [now, name, n],
      );
    else await c.query("UPDATE secret_versions SET state = $1 WHERE name = $2 AND version = $3", [state, name, n]);
  }
  await appendAuditTx(c, mac, { ...event, principal, outcome: "ok" }, now);
}
