import { describe, expect, it } from "vitest";

describe("the pipeseal/gateway subpath export (built package)", () => {
  it("exposes the gateway, its policy reader and range parser", async () => {
    const gw = await import("pipeseal/gateway");
    for (const name of ["startGateway", "parseGatewayPolicy", "loadGatewayPolicy", "decide", "parseRange", "compileIdentityPattern", "localBackend"]) {
      expect(typeof (gw as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
