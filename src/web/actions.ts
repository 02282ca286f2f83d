/**
 * The dashboard's admin actions on a key, through a {@link KeyAdmin}: locally the same
 * LocalKeystore calls `pipeseal key …` makes (each records its own audit record in the same
 * transaction as the change); in the key service the service's own authorization first (one
 * recorded decision carrying the rule), then its store. Every action needs the key name typed
 * out, checked here on the server before anything is decided; the page's script only mirrors it.
 */
import { UsageError } from "../errors.js";
import type { LocalKeystore } from "../keys/keystore.js";
import type { KeyAdmin } from "./access.js";

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
  const str = (k: string) => (typeof form[k] === "string" ? form[k] : "");
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
export async function applyAction(admin: KeyAdmin, a: ActionRequest): Promise<string> {
  checkConfirmed(a);
  const v = a.version ?? 0;
  switch (a.action) {
    case "rotate":
      return `rotated: primary is now v${(await admin.rotate(a.name)).primaryVersion}`;
    case "disable":
      await admin.disable(a.name, v);
      return `disabled v${v}`;
    case "enable":
      await admin.enable(a.name, v);
      return `enabled v${v}`;
    case "set-min-version":
      return `minimum decryption version is now v${(await admin.setMinVersion(a.name, v)).minDecryptVersion}`;
    case "destroy": {
      const state = (await admin.show(a.name)).versions.find((x) => x.version === v)?.state;
      if (state === "destroyed") return `v${v} was already destroyed; nothing to do`;
      await admin.destroy(a.name, v);
      return `destroyed v${v}`;
    }
  }
}

/** @throws UsageError(INVALID_ARGUMENT) unless the typed confirmation is the key name exactly (nothing is decided or changed then) */
export function checkConfirmed(a: ActionRequest): void {
  if (a.confirm !== a.name) throw new UsageError("INVALID_ARGUMENT", `not confirmed: type the key name exactly; nothing was changed`);
}

/** The local keystore as a KeyAdmin (its calls audit themselves, as `pipeseal key …`). */
export function localKeyAdmin(ks: LocalKeystore): KeyAdmin {
  return {
    rotate: async (n) => ks.rotateKey(n),
    disable: async (n, v) => ks.disableVersion(n, v),
    enable: async (n, v) => ks.enableVersion(n, v),
    setMinVersion: async (n, v) => ks.setMinDecryptVersion(n, v),
    destroy: async (n, v) => ks.destroyVersion(n, v),
    show: async (n) => ks.showKey(n),
  };
}
