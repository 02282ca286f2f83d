/**
 * The storage seam of key administration (src/keys/admin/statements.ts): both drivers run an
 * operation's statements in order and hand each answer back; an error, thrown by the
 * operation or by a statement, stops the operation (its `finally` runs) and reaches the
 * caller, so the caller's transaction rolls back and nothing of the change commits.
 */
import { describe, expect, it } from "vitest";
import { KeyError } from "../../src/errors.js";
import { runOnSqlite } from "../../src/keys/admin/sqlite-statements.js";
import { type AsyncKeyStatements, type KeyStatements, type Steps, ask, runAsync, runSync } from "../../src/keys/admin/statements.js";
import { immediate, migrate, openDb } from "../../src/keys/db.js";

/** A dialect that logs each statement it is asked and answers from `answers` (or throws `fail`). */
function recording(answers: Partial<Record<keyof KeyStatements, unknown>>, fail?: keyof KeyStatements) {
  const log: string[] = [];
  const answer = (statement: keyof KeyStatements, args: unknown[]) => {
    log.push(`${statement}(${args.join(",")})`);
    if (statement === fail) throw new Error(`${statement} failed`);
    return answers[statement];
  };
  const names: (keyof KeyStatements)[] = [
    "keyRow",
    "keyRows",
    "versionRows",
    "versionRow",
    "insertKey",
    "maxVersion",
    "insertVersion",
    "setPrimary",
    "setVersionState",
    "destroyVersion",
    "setMinDecryptVersion",
    "writeSeals",
  ];
  const sync = Object.fromEntries(names.map((n) => [n, (...args: unknown[]) => answer(n, args)])) as unknown as KeyStatements;
  const async = Object.fromEntries(names.map((n) => [n, async (...args: unknown[]) => answer(n, args)])) as unknown as AsyncKeyStatements;
  return { log, sync, async };
}

/** Rotation's shape: read, write with the answer, write again. */
function* rotateLike(name: string, afterWrite: () => void = () => undefined, cleanup: string[] = []): Steps<number> {
  try {
    const next = (yield* ask("maxVersion", name)) + 1;
    yield* ask("setPrimary", name, next);
    afterWrite();
    yield* ask("setMinDecryptVersion", name, next);
    return next;
  } finally {
    cleanup.push("finally ran");
  }
}

type Driver = <T>(steps: Steps<T>, d: ReturnType<typeof recording>) => Promise<T>;
const DRIVERS: Record<"sync" | "async", Driver> = {
  sync: async (steps, d) => runSync(steps, d.sync),
  async: async (steps, d) => runAsync(steps, d.async),
};

describe.each(Object.entries(DRIVERS))("the %s driver", (_, drive) => {
  it("runs the statements in order, each with the answers before it", async () => {
    const d = recording({ maxVersion: 4 });
    await expect(drive(rotateLike("k"), d)).resolves.toBe(5);
    expect(d.log).toEqual(["maxVersion(k)", "setPrimary(k,5)", "setMinDecryptVersion(k,5)"]);
  });

  it("stops at an error the operation throws and passes it on unchanged", async () => {
    const d = recording({ maxVersion: 1 });
    const refused = new KeyError("KEY_STATE_CONFLICT", "refused");
    const cleanup: string[] = [];
    const ran = drive(
      rotateLike(
        "k",
        () => {
          throw refused;
        },
        cleanup,
      ),
      d,
    );
    await expect(ran).rejects.toBe(refused);
    expect(d.log).toEqual(["maxVersion(k)", "setPrimary(k,2)"]); // nothing after the throw
    expect(cleanup).toEqual(["finally ran"]);
  });

  it("throws a failing statement into the operation, whose finally runs, then out to the caller", async () => {
    const d = recording({ maxVersion: 1 }, "setPrimary");
    const cleanup: string[] = [];
    await expect(drive(rotateLike("k", undefined, cleanup), d)).rejects.toThrow("setPrimary failed");
    expect(d.log).toEqual(["maxVersion(k)", "setPrimary(k,2)"]);
    expect(cleanup).toEqual(["finally ran"]);
  });

  it("lets the operation catch a failing statement and go on", async () => {
    const d = recording({ maxVersion: 7 }, "setPrimary");
    function* tolerant(): Steps<number> {
      try {
        yield* ask("setPrimary", "k", 1);
      } catch {
        // recovered
      }
      return yield* ask("maxVersion", "k");
    }
    await expect(drive(tolerant(), d)).resolves.toBe(7);
  });
});

describe("an operation over the SQLite dialect inside the transaction", () => {
  it("commits nothing when it throws after a write", () => {
    const db = openDb(":memory:", { create: true });
    try {
      migrate(db);
      const refused = new KeyError("KEY_EXISTS", "refused after the insert");
      function* insertThenRefuse(): Steps<void> {
        expect(yield* ask("insertKey", "k", null, 1)).toBe(true);
        expect(yield* ask("keyRow", "k", true)).toMatchObject({ name: "k", primary_version: 1 }); // visible inside
        throw refused;
      }
      expect(() => immediate(db, () => runOnSqlite(db, insertThenRefuse()))).toThrow(refused);
      expect(runOnSqlite(db, ask("keyRow", "k", false))).toBeUndefined();
      expect(runOnSqlite(db, ask("keyRows"))).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("reports a taken name as not inserted, leaving the first row as it was", () => {
    const db = openDb(":memory:", { create: true });
    try {
      migrate(db);
      expect(runOnSqlite(db, ask("insertKey", "k", 60, 1))).toBe(true);
      expect(runOnSqlite(db, ask("insertKey", "k", null, 2))).toBe(false);
      expect(runOnSqlite(db, ask("keyRow", "k", false))).toMatchObject({ rotate_every_seconds: 60, created_at: 1 });
    } finally {
      db.close();
    }
  });
});
