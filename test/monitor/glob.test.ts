import { expect, test } from "vitest";
import { globMatcher, globToRegExp } from "../../src/monitor/glob.js";
import { prng } from "../helpers/prng.js";

// the literal-parts matcher must agree with the regular expression (the reference) everywhere
test("globMatcher agrees with globToRegExp on random globs and strings", () => {
  const rand = prng(3);
  const alphabet = ["a", "b", "/", "-", "*", ".", "\n"];
  const word = (n: number, stars: boolean) => Array.from({ length: Math.floor(rand() * n) }, () => alphabet[Math.floor(rand() * (stars ? 7 : 6))]!).join("");
  let matches = 0;
  for (let i = 0; i < 3000; i++) {
    const glob = word(8, true);
    const re = globToRegExp(glob);
    const fast = globMatcher([glob]);
    for (let j = 0; j < 20; j++) {
      const s = word(12, false);
      expect(fast(s), `${JSON.stringify(glob)} ~ ${JSON.stringify(s)}`).toBe(re.test(s));
      if (re.test(s)) matches++;
    }
  }
  expect(matches).toBeGreaterThan(1000); // the sample exercises matches, not only misses
  expect(globMatcher(["*/decoy-*"])("/data/x/decoy-0001.csv.pseal")).toBe(true);
  expect(globMatcher(["a*a"])("a")).toBe(false); // prefix and suffix may not overlap
  expect(globMatcher(["prod/canary/?"])("prod/canary/x")).toBe(true);
});
