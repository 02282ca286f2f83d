/**
 * Indexes that keep the dashboard's audit queries fast over millions of records (query.ts,
 * usage.ts): keyset pages of one principal or one key walk their own index backwards from
 * a seq, and counts per time range over the data-key operations are answered from the
 * (time, operation) index alone. Applied through the keystore's capability migrations the
 * first time a dashboard opens the store (building them over 1,000,000 records takes a few
 * seconds, once); they cost each later audit append a few index inserts. They change no
 * record and nothing the chain's MAC covers.
 */
export const AUDIT_QUERY_CAPABILITY = "audit-query";

export const AUDIT_QUERY_MIGRATIONS: readonly string[] = [
  `CREATE INDEX IF NOT EXISTS audit_principal_seq ON audit(principal, seq);
   CREATE INDEX IF NOT EXISTS audit_key_seq ON audit(key_name, seq);
   CREATE INDEX IF NOT EXISTS audit_time_op ON audit(time, operation);`,
];
