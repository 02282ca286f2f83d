/**
 * Keys pipeseal makes for itself (the CA's key, the key service's token key), not for data.
 * Listings show them only to who administers them: a workload has no use for them, and their
 * names and wrap counts tell an attacker what the service runs.
 */
// the CA's (pki/ca/store.ts CA_KEY_NAME) and the token key (server/token-keys.ts); a test
// keeps these in step (they are named here as text: keys/ sits below pki/ and server/)
const INTERNAL = new Set<string>(["pki/ca", "pipeseal/service-tokens"]);

/** Whether `name` is one of pipeseal's own keys (or under the reserved `pipeseal/` prefix). */
export function isInternalKey(name: string): boolean {
  return INTERNAL.has(name) || name.startsWith("pipeseal/");
}
