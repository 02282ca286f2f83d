/** The key-lifecycle rules every store applies (src/keys/key-lifecycle.ts), as a table. */
import { describe, expect, it } from "vitest";
import { checkMinDecryptVersion, checkRotationPeriod, nextVersionState, type VersionChange } from "../../src/keys/key-lifecycle.js";
import type { KeyState } from "../../src/keys/rows.js";

const key = { primary_version: 3 };
const CHANGES: VersionChange[] = ["disable", "enable", "destroy"];
const STATES: KeyState[] = ["enabled", "disabled", "destroyed"];

describe("nextVersionState", () => {
  it("answers every (change, state, primary or not) the way Tink's key model does", () => {
    for (const change of CHANGES) {
      for (const state of STATES) {
        for (const version of [2, 3]) {
          const primary = version === key.primary_version;
          const refused = (change !== "enable" && primary) || (change !== "destroy" && state === "destroyed");
          const decide = () => nextVersionState(change, "k", key, { version, state });
          if (refused) expect(decide, `${change} ${state} v${version}`).toThrow(expect.objectContaining({ code: "KEY_STATE_CONFLICT" }));
          else expect(decide(), `${change} ${state} v${version}`).toBe({ disable: "disabled", enable: "enabled", destroy: "destroyed" }[change]);
        }
      }
    }
  });

  it("names the primary and says to rotate first; a destroyed version stays destroyed", () => {
    expect(() => nextVersionState("destroy", "prod/x", key, { version: 3, state: "enabled" })).toThrow(
      /prod\/x v3 is the primary version and cannot be destroyed; rotate first/,
    );
    expect(() => nextVersionState("enable", "prod/x", key, { version: 1, state: "destroyed" })).toThrow(/destroyed and cannot be enabled/);
    expect(nextVersionState("destroy", "prod/x", key, { version: 1, state: "destroyed" })).toBe("destroyed"); // idempotent
  });
});

describe("checkMinDecryptVersion and checkRotationPeriod", () => {
  it("refuse a minimum above the primary and a period that is not a positive whole number", () => {
    expect(() => checkMinDecryptVersion(key, 3)).not.toThrow();
    expect(() => checkMinDecryptVersion(key, 4)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53])
      expect(() => checkRotationPeriod(bad), String(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => checkRotationPeriod(undefined)).not.toThrow();
    expect(() => checkRotationPeriod(86_400)).not.toThrow();
  });
});
