/**
 * The dashboard's admin actions on a key: the same LocalKeystore calls `pipeseal key …` makes
 * (each records its own audit record in the same transaction as the change). Every action
 * needs the key name typed out, checked here on the server; the page's script only mirrors it.
 */
import { UsageError } from "../errors.js";
import type { LocalKeystore } from "../keys/keystore.js";

export const ACTIONS = ["rotate", "disable", "enable", "set-min-version", "destroy"] as const;
export type KeyAction = (typeof ACTIONS)[number];

export interface ActionRequest {
  readonly name: string;
  readonly action: KeyAction;
  readonly version: number | null;
  readonly confirm: string;
}

/** @throws UsageError(INVALID_ARGUMENT) for a malformed form */
export function parseAction(form: Readonly<Record<string, unknown>>): ActionRequest {
  const str = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");
  const action = str("action") as KeyAction;
  if (!ACTIONS.includes(action)) throw new UsageError("INVALID_ARGUMENT", "unknown action");
  const name = str("name");
  if (name === "") throw new UsageError("INVALID_ARGUMENT", "a key name is required");
  const v = str("version");
  if (action !== "rotate" && !/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError("INVALID_ARGUMENT", "a version is required");
  return { name, action, version: action === "rotate" ? null : Number(v), confirm: str("confirm") };
}

/**
 * Runs the action once the typed confirmation equals the key name exactly.
 * @throws UsageError(INVALID_ARGUMENT) when not confirmed (nothing changed); the keystore's own
 *   errors (KEY_NOT_FOUND, KEY_STATE_CONFLICT, …) otherwise.
 */
export function applyAction(ks: LocalKeystore, a: ActionRequest): string {
  if (a.confirm !== a.name) throw new UsageError("INVALID_ARGUMENT", `not confirmed: type the key name exactly; nothing was changed`);
  const v = a.version ?? 0;
  switch (a.action) {
    case "rotate":
      return `rotated: primary is now v${ks.rotateKey(a.name).primaryVersion}`;
    case "disable":
      ks.disableVersion(a.name, v);
      return `disabled v${v}`;
    case "enable":
      ks.enableVersion(a.name, v);
      return `enabled v${v}`;
    case "set-min-version":
      return `minimum decryption version is now v${ks.setMinDecryptVersion(a.name, v).minDecryptVersion}`;
    case "destroy": {
      const state = ks.showKey(a.name).versions.find((x) => x.version === v)?.state;
      if (state === "destroyed") return `v${v} was already destroyed; nothing to do`;
      ks.destroyVersion(a.name, v);
      return `destroyed v${v}`;
    }
  }
}
