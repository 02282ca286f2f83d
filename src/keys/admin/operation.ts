/**
 * What a key administration operation is, for every store: its audit operation and target,
 * and its steps over the storage seam (statements.ts). Each store runs it in one transaction
 * with its audit record (the local keystore: ../admin-op.ts; PostgreSQL:
 * server/store/pg-store.ts), so the rules and statements of an operation are written once,
 * in its own file (create-key.ts, rotate-key.ts, disable-version.ts, ...).
 */
import type { AuditOperation } from "../../audit/types.js";
import type { StateSeal } from "../key-state.js";
import type { RootKey } from "../root-key.js";
import { auditableName, auditableVersion } from "../names.js";
import type { Steps } from "./statements.js";

/** What an operation's steps need besides the statements. */
export interface AdminEnv {
  readonly root: RootKey;
  readonly seal: StateSeal;
  /** The transaction's time (epoch ms), one for the change and its audit record. */
  readonly now: number;
}

/** The key and version an audit record names: null for input that is not a valid name or version (never log junk). */
export interface AdminTarget {
  readonly keyName: string | null;
  readonly keyVersion: number | null;
}

export interface AdminOp<T> {
  readonly operation: AuditOperation;
  readonly target: AdminTarget;
  /** The change; `keyVersion`, when it made one (rotation), is the version its audit record names. */
  steps(env: AdminEnv): Steps<{ result: T; keyVersion?: number }>;
}

export function adminTarget(name: unknown, version: unknown): AdminTarget {
  return { keyName: auditableName(name), keyVersion: auditableVersion(version) };
}
