import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as source from "../../src/privacy/index.js";

describe("the pipeseal/privacy subpath export (built package)", () => {
  it("resolves to the built dist/privacy, not the sources", () => {
    const resolved = createRequire(import.meta.url).resolve("pipeseal/privacy");
    expect(resolved).toBe(fileURLToPath(new URL("../../dist/privacy/index.js", import.meta.url)));
  });

  it("exposes the samplers, the mechanisms, the query path and the ledger", async () => {
    const m = (await import("pipeseal/privacy")) as Record<string, unknown>;
    for (const name of [
      "sampleDiscreteLaplace",
      "sampleDiscreteGaussian",
      "sampleDiscreteGaussianSq",
      "bernoulliExp",
      "cryptoRandomSource",
      "seededRandomSource",
      "exactRational",
      "parseDecimal",
      "laplaceNoise",
      "gaussianNoise",
      "granularityFor",
      "epsilonFromRho",
      "rhoFromEpsilonDelta",
      "spentOf",
      "fits",
      "planQuery",
      "describeQuery",
      "collect",
      "release",
      "readInput",
      "PrivacyLedger",
      "verifyPrivacyLedger",
      "runPrivateQuery",
      "PrivacyError",
      "discreteLaplaceCdf",
      "discreteGaussianCdf",
      "chiSquare",
      "chiSquareCritical",
      "equalMassBins",
      "integerBins",
    ]) {
      expect(typeof m[name], name).toBe("function");
    }
    // internals stay internal: the ledger's row readers, the grid's unit conversions, the raw samplers
    for (const name of ["limitsOf", "costOf", "validateBudgetName", "printableAscii", "toUnits", "fromUnits", "ExactSum", "discreteLaplace", "isSealedFile"]) {
      expect(m[name], name).toBeUndefined();
    }
  });

  it("works from the built package: the same exact bigint draws as the sources, a plan's exact cost, errors under the package's base class", async () => {
    const dp = await import("pipeseal/privacy");
    const { PipesealError } = await import("pipeseal");
    const draws = (lib: typeof dp) => {
      const rng = lib.seededRandomSource("exports");
      return Array.from({ length: 20 }, () => lib.sampleDiscreteLaplace(2, rng));
    };
    const built = draws(dp);
    expect(built.every((x) => typeof x === "bigint")).toBe(true);
    expect(new Set(built).size).toBeGreaterThan(1);
    expect(draws(source as unknown as typeof dp)).toEqual(built); // the build is the current source: the same exact draws
    expect(typeof dp.sampleDiscreteGaussian(3.5, dp.seededRandomSource("exports"))).toBe("bigint");
    expect(dp.planQuery({ kind: "count", epsilon: "0.1" }).cost.epsilon).toEqual({ num: 1n, den: 10n }); // "0.1" is exactly 1/10
    let thrown: unknown;
    try {
      dp.planQuery({ kind: "quantile", column: "x", quantiles: [0.5], epsilon: 1 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(dp.PrivacyError);
    expect(thrown).toBeInstanceOf(PipesealError);
    expect(thrown).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("DP quantiles need public --bounds") });
  });
});
