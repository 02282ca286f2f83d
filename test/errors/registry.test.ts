/**
 * The error registry (src/error-registry.ts): each code's class is chosen from the code, every
 * class is a PipesealError, and "denied or error" in an audit record comes from the code alone.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ArtifactError,
  AuditError,
  DecryptError,
  ERROR_CODES,
  ERROR_REGISTRY,
  EnvironmentError,
  FieldError,
  FormatError,
  KeyError,
  KeystoreError,
  MonitorError,
  PipesealError,
  PrivacyError,
  SecaggError,
  ServiceError,
  UsageError,
  auditOutcomeOf,
  createError,
  type ErrorClassName,
  type ErrorCode,
} from "../../src/errors.js";
import { toWireError } from "../../src/server/errors.js";
import { ServiceError as ServerServiceError } from "../../src/server/errors.js";
import { FieldError as FieldsFieldError } from "../../src/fields/errors.js";
import { PolicyError } from "../../src/server/policy/parse.js";
import { KeyServiceError } from "../../src/client/errors.js";
import { TransitError } from "../../src/pki/mtls/errors.js";

const CLASSES: Record<ErrorClassName, abstract new (...a: never[]) => PipesealError> = {
  DecryptError,
  FormatError,
  KeyError,
  KeystoreError,
  AuditError,
  UsageError,
  EnvironmentError,
  ServiceError,
  FieldError,
  ArtifactError,
  PrivacyError,
  MonitorError,
  SecaggError,
};

const codes = Object.keys(ERROR_REGISTRY) as ErrorCode[];

describe("error registry", () => {
  it("builds the registered class for every code, from the base constructor and from createError", () => {
    for (const code of codes) {
      const cls = CLASSES[ERROR_REGISTRY[code].class];
      for (const e of [new PipesealError(code, "m"), createError(code, "m", { cause: 1 })]) {
        expect([code, e instanceof cls, e instanceof PipesealError, e instanceof Error, e.code]).toEqual([code, true, true, true, code]);
        expect(e.name).toBe(ERROR_REGISTRY[code].class);
      }
    }
  });

  it("keeps the message and cause given, and the registry's message when none is", () => {
    const e = new PipesealError("KEY_DISABLED", "datasets/raw v1 is disabled", { cause: "x" });
    expect([e.message, e.cause]).toEqual(["datasets/raw v1 is disabled", "x"]);
    expect(new PipesealError("KEY_EXISTS").message).toBe(ERROR_CODES.KEY_EXISTS);
    const f = new PipesealError("FIELD_MALFORMED", "bad token", { cause: "y" }) as FieldError;
    expect([f.message, f.cause, f.row]).toEqual(["bad token", "y", undefined]);
  });

  it("keeps DECRYPT_FAILED opaque even when a detail is passed (an error rebuilt from a worker's code cannot leak an oracle)", () => {
    const e = new PipesealError("DECRYPT_FAILED", "tag mismatch in segment 7 under key k1");
    expect(e).toBeInstanceOf(DecryptError);
    expect(e.message).toBe(ERROR_CODES.DECRYPT_FAILED);
    expect(toWireError(e).body.error.message).toBe("decryption failed");
  });

  it("makes every domain class a PipesealError, re-exported where it was", () => {
    expect(ServerServiceError).toBe(ServiceError);
    expect(FieldsFieldError).toBe(FieldError);
    const all = [
      new ServiceError("ACCESS_DENIED", "denied (rule)"),
      new PolicyError(1, 2, "bad"),
      new KeyServiceError(403, "ACCESS_DENIED", "denied"),
      new TransitError("CERT_REJECTED", "expired", "local", "x"),
      new FieldError("INVALID_ARGUMENT", "x", { row: 3 }),
      new ArtifactError("ARTIFACT_MISMATCH", "x", [{ kind: "added", path: "a" }]),
    ];
    for (const e of all) expect(e).toBeInstanceOf(PipesealError);
    expect(toWireError(all[0]).status).toBe(403);
  });

  it("lets a code from another build fall back to the base class instead of throwing", () => {
    const e = new PipesealError("NOT_A_CODE" as ErrorCode, "newer service");
    expect([e.constructor, e.code, e.message]).toEqual([PipesealError, "NOT_A_CODE", "newer service"]);
  });

  it("decides denied or error from the code, whatever class carries it", () => {
    for (const code of codes) {
      expect([code, auditOutcomeOf(new PipesealError(code))]).toEqual([code, ERROR_REGISTRY[code].outcome]);
      expect([code, auditOutcomeOf(new FieldError(code, "x"))]).toEqual([code, ERROR_REGISTRY[code].outcome]);
    }
    // the refusals the keystore records as denied, and failures it records as error
    expect(
      ["KEY_DISABLED", "KEY_DESTROYED", "KEY_BELOW_MIN_VERSION", "INVALID_ARGUMENT", "PRIVACY_BUDGET_EXHAUSTED", "ACCESS_DENIED"].map((c) =>
        auditOutcomeOf(new PipesealError(c as ErrorCode)),
      ),
    ).toEqual(Array(6).fill("denied"));
    expect(
      ["DECRYPT_FAILED", "KEY_BLOCK_INVALID", "AUDIT_WRITE_FAILED", "KEYSTORE_CORRUPT", "IO_ERROR"].map((c) =>
        auditOutcomeOf(new PipesealError(c as ErrorCode)),
      ),
    ).toEqual(Array(5).fill("error"));
    // a PolicyError (a UsageError subclass, whose name is not "UsageError") is denied like its code says
    expect(auditOutcomeOf(new PolicyError(1, 1, "x"))).toBe("denied");
    expect(auditOutcomeOf(new Error("boom"))).toBe("error");
    expect(auditOutcomeOf({ code: "KEY_DISABLED", name: "KeyError" })).toBe("error"); // a look-alike is not a PipesealError
  });

  it("leaves no error-class name compared as a string in src/", () => {
    const src = new URL("../../src/", import.meta.url).pathname;
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const n of readdirSync(dir)) {
        const p = path.join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts") && /\.name\s*[!=]==?\s*"\w*Error"/.test(readFileSync(p, "utf8"))) found.push(path.relative(src, p));
      }
    };
    walk(src);
    expect(found).toEqual([]);
  });
});
