/**
 * The storage seam of key administration: the statements an operation needs, written once per
 * dialect (sqlite-statements.ts, server/store/pg-key-statements.ts), and the two drivers that
 * run an operation over them.
 *
 * Why generators: the local keystore runs on better-sqlite3, whose transactions are
 * synchronous (an `await` inside one would commit half a change), and PostgreSQL runs on
 * node-postgres, which is asynchronous. An operation is therefore a generator that yields
 * statement requests ({@link ask}) and receives their answers: {@link runSync} answers them
 * at once inside the SQLite transaction, {@link runAsync} awaits each one inside the
 * PostgreSQL transaction. The rules and the order of statements are written once; only the
 * SQL differs. A statement that throws is thrown into the operation at its `yield`, so the
 * operation's own `finally` blocks run, and the error reaches the caller's transaction, which
 * rolls back.
 *
 * Rows are returned unchecked: the operations check them against their state MACs
 * (key-state.ts) through key-rows.ts.
 */
import type { KeyRow, VersionRow } from "../rows.js";

/** How a read row is locked for the rest of the transaction (see {@link KeyStatements.keyRow}). */
export type RowLock = "none" | "share" | "update";

/** A key set resealed under its next generation (key-state.ts sealKeySet). */
export interface SealedKeySet {
  readonly gen: number;
  readonly keyMac: Buffer;
  readonly versionMacs: readonly { version: number; mac: Buffer }[];
}

/** The statements, in their synchronous form; the asynchronous dialect answers the same with promises. */
export interface KeyStatements {
  /**
   * The key row named `name`, or undefined, locked until the transaction ends as `lock` says
   * (PostgreSQL: "update" is FOR UPDATE, so concurrent changes of one key serialize across
   * replicas; "share" is FOR SHARE, so a wrap counts against a primary no change is replacing.
   * SQLite's IMMEDIATE transaction already holds the database's write lock).
   */
  keyRow(name: string, lock: RowLock): KeyRow | undefined;
  /** Every key row, ordered by name. */
  keyRows(): KeyRow[];
  /** Every version row of key `name` ordered by version (the KEK may be left out). */
  versionRows(name: string): VersionRow[];
  /** Version `version` of key `name` with its sealed KEK, or undefined; "update" locks it (PostgreSQL FOR UPDATE). */
  versionRow(name: string, version: number, lock: "none" | "update"): VersionRow | undefined;
  /** Inserts key `name` with version 1 as primary and minimum unless the name is taken; returns whether it did. */
  insertKey(name: string, rotateEverySeconds: number | null, now: number): boolean;
  /** The highest version of key `name`. */
  maxVersion(name: string): number;
  /** Inserts an enabled version with no wraps yet. */
  insertVersion(name: string, version: number, sealedKek: Buffer, now: number): void;
  setPrimary(name: string, version: number): void;
  setVersionState(name: string, version: number, state: "enabled" | "disabled"): void;
  /** Marks the version destroyed, overwrites its KEK with NULL and keeps the first destruction time. */
  destroyVersion(name: string, version: number, now: number): void;
  setMinDecryptVersion(name: string, version: number): void;
  /** Sets a version's wrap count together with its new state MAC (one statement: the count is bound exactly). */
  setWrapCount(name: string, version: number, count: number, stateMac: Buffer): void;
  /** Stores the key set's generation and MACs. */
  writeSeals(name: string, sealed: SealedKeySet): void;
}

/** The same statements, answered asynchronously (PostgreSQL). */
export type AsyncKeyStatements = {
  readonly [K in keyof KeyStatements]: (...args: Parameters<KeyStatements[K]>) => Promise<ReturnType<KeyStatements[K]>>;
};

/** One statement request: its name and arguments. */
export type Step = { [K in keyof KeyStatements]: { readonly statement: K; readonly args: Parameters<KeyStatements[K]> } }[keyof KeyStatements];

/** An operation (or part of one) over the seam, returning `T`. */
export type Steps<T> = Generator<Step, T, unknown>;

/** Asks for one statement; `yield* ask(...)` evaluates to its answer. */
export function* ask<K extends keyof KeyStatements>(statement: K, ...args: Parameters<KeyStatements[K]>): Steps<ReturnType<KeyStatements[K]>> {
  return (yield { statement, args } as Step) as ReturnType<KeyStatements[K]>;
}

/** Runs `steps` against a synchronous dialect, inside the caller's (synchronous) transaction. */
export function runSync<T>(steps: Steps<T>, statements: KeyStatements): T {
  let next = steps.next();
  while (next.done !== true) {
    let answer: unknown;
    try {
      answer = call(statements, next.value);
    } catch (e) {
      next = steps.throw(e);
      continue;
    }
    next = steps.next(answer);
  }
  return next.value;
}

/** Runs `steps` against an asynchronous dialect, one statement at a time, inside the caller's transaction. */
export async function runAsync<T>(steps: Steps<T>, statements: AsyncKeyStatements): Promise<T> {
  let next = steps.next();
  while (next.done !== true) {
    let answer: unknown;
    try {
      answer = await call(statements, next.value);
    } catch (e) {
      next = steps.throw(e);
      continue;
    }
    next = steps.next(answer);
  }
  return next.value;
}

function call(statements: KeyStatements | AsyncKeyStatements, step: Step): unknown {
  // the union of steps does not correlate a name with its arguments for the compiler; ask() typed them
  return (statements[step.statement] as (...args: unknown[]) => unknown)(...step.args);
}
