/**
 * Who is looking, and what they may see and do. Every page and action asks the request's
 * {@link Visit}: the local dashboard (`pipeseal ui`) admits its session holder with every
 * right but, read-only, no admin action; the key service's /ui/ (service-access.ts) asks the
 * service's own policy for the caller's identity. A page never decides a right by itself.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuditVerifyResult } from "../audit/types.js";
import type { KeyInfo } from "../keys/key-info.js";
import type { Session } from "./session.js";

/** The policy operations the dashboard shows or performs (the key service's names). None of them hands out plaintext. */
export const DASHBOARD_OPERATIONS = [
  "key.list",
  "key.show",
  "audit.read",
  "audit.export",
  "key.rotate",
  "key.disable",
  "key.enable",
  "key.set-min-version",
  "key.destroy",
] as const;
export type DashboardOperation = (typeof DASHBOARD_OPERATIONS)[number];

export interface Viewer {
  /** The identity the pages act as (the keystore's principal, or the service caller's SPIFFE ID). */
  readonly identity: string;
  /** May this viewer do `operation` (on `keyName`)? Decided without recording. */
  can(operation: DashboardOperation, keyName?: string): boolean;
  /** Is `keyName` in this viewer's key list (the service's `key.list` + `key.show` rule)? */
  sees(keyName: string): boolean;
}

/** The key changes an admin form can ask for, run as the viewer (authorized and audited by the backend). */
export interface KeyAdmin {
  rotate(name: string): Promise<KeyInfo>;
  disable(name: string, version: number): Promise<KeyInfo>;
  enable(name: string, version: number): Promise<KeyInfo>;
  setMinVersion(name: string, version: number): Promise<KeyInfo>;
  destroy(name: string, version: number): Promise<unknown>;
  show(name: string): Promise<KeyInfo>;
}

/** One admitted request: its session (CSRF token, flash), its viewer, and the backend acting as the viewer. */
export interface Visit {
  readonly session: Session;
  readonly viewer: Viewer;
  readonly admin: KeyAdmin;
  /** Records an export of the audit (operation audit.export, `context` its filter) before any line is sent. @throws when refused or not recorded */
  recordExport(context: Record<string, string>): Promise<void>;
  verifyAudit(): Promise<AuditVerifyResult>;
  /** Acknowledges a monitor alert as the viewer (audited with the note), where the site has the ledger. */
  readonly ackAlert: ((id: string, note: string) => Promise<void>) | null;
}

/** How a site admits requests: the local login token and cookie, or the key service's mTLS / bearer identity. */
export interface Access {
  /** The request's visit, or null once it has been answered (401, 403, 421, a login redirect). */
  enter(req: FastifyRequest, reply: FastifyReply): Promise<Visit | null>;
  /** Whether a state-changing request's Origin header is acceptable (CSRF is checked apart). */
  originAllowed(req: FastifyRequest): boolean;
  /** Whether the site's cookie carries Secure (HTTPS). */
  readonly secure: boolean;
}

/** A viewer with every right the dashboard has, admin actions only when not read-only (the local keystore's owner). */
export function ownerViewer(identity: string, readOnly: boolean): Viewer {
  return {
    identity,
    can: (op) => !readOnly || op === "key.list" || op === "key.show" || op === "audit.read" || op === "audit.export",
    sees: () => true,
  };
}

export const ADMIN_ACTION_OPERATION = {
  rotate: "key.rotate",
  disable: "key.disable",
  enable: "key.enable",
  "set-min-version": "key.set-min-version",
  destroy: "key.destroy",
} as const satisfies Record<string, DashboardOperation>;
