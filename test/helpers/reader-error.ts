/** The message of the typed error a file reader throws; fails the test when the reader accepts. */
import { expect } from "vitest";
import type { PipesealError } from "../../src/errors.js";

export function refusalOf(read: () => unknown, type: abstract new (...args: never[]) => PipesealError, code = "INVALID_ARGUMENT"): string {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as PipesealError).code).toBe(code);
    return (e as Error).message;
  }
  throw new Error("the reader accepted the file");
}

/** A message equal to `expected`, or matching it when it is a pattern. */
export function expectMessage(message: string, expected: string | RegExp): void {
  if (typeof expected === "string") expect(message).toBe(expected);
  else expect(message).toMatch(expected);
}
