import { describe, expect, it } from "vitest";

describe("the pipeseal/secagg subpath export (built package)", () => {
  it("exposes the aggregator, the client and the protocol core", async () => {
    const m = await import("pipeseal/secagg");
    for (const name of [
      "startAggregator",
      "SecaggClient",
      "Party",
      "AggregatorRound",
      "split",
      "combine",
      "quantize",
      "readVector",
      "writeVector",
      "SecaggError",
    ]) {
      expect(typeof (m as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
