import { describe, expect, it } from "vitest";
import { describeCommand } from "../../src/secrets/run.js";

describe("describeCommand (what a run's reads are audited as being for)", () => {
  it("keeps the program and its leading plain arguments", () => {
    expect(describeCommand("python3", ["train.py", "--epochs", "3"])).toBe("run: python3 train.py --epochs 3");
    expect(describeCommand("python3", ["a", "b", "c", "d", "e"])).toBe("run: python3 a b c (+2 more args)");
  });
  it("never keeps a token, an assignment or a script given on the command line", () => {
    expect(describeCommand("curl", ["-H", "Authorization: Bearer ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"])).toBe("run: curl -H (+1 more args)");
    expect(describeCommand("tool", ["--token=abc", "x"])).toBe("run: tool (+2 more args)");
    expect(describeCommand("tool", ["ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"])).toBe("run: tool (+1 more args)");
    expect(describeCommand("sh", ["-c", 'echo "$K"'])).toBe("run: sh -c (+1 more args)");
  });
});
