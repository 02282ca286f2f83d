/**
 * The served OpenAPI document tells the truth: every `x-pipeseal-permission` is an operation
 * a policy can grant, and it is the operation the service really decides on (checked by
 * calling the route as a stranger and reading the decision record); the audit export is
 * documented as JSON lines with its record schema.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/server/policy/index.js";
import { type Harness, startHarness, WHO } from "./api-harness.js";

type Op = { operationId: string; "x-pipeseal-permission"?: string; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Doc = { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, { required?: string[] }> } };

let h: Harness;
let doc: Doc;
beforeAll(async () => {
  h = await startHarness();
  doc = await h.keyring("stranger").client.call<Doc>("GET", "/v1/openapi.json");
});
afterAll(async () => h?.close());

const ops = () =>
  Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ path: p, method: m.toUpperCase() as "GET" | "POST", op })));

/** A body that passes validation for the routes checked below. */
const BODIES: Record<string, unknown> = {
  wrap: { keyName: "prod/datasets/raw", dataKey: Buffer.alloc(32).toString("base64") },
  generateWrapped: { keyName: "prod/datasets/raw" },
  generate: { keyName: "prod/datasets/raw" },
  rotateKey: { name: "prod/datasets/raw" },
  unwrap: { wrappedKey: { keyName: "prod/datasets/raw", keyVersion: 1, wrapped: "AAAA" } },
  showSecret: { name: "llm/openai" },
  setSecret: { name: "llm/openai", value: "AAAA" },
  readSecret: { name: "llm/openai", for: "test" },
  changeSecret: { name: "llm/openai", change: "disable", version: 1 },
  verifyToken: { token: "pst1.x.y" },
  appendRecords: { records: [{ operation: "gateway.serve", outcome: "ok" }] },
};

describe("OpenAPI document", () => {
  it("names only operations a policy can grant", () => {
    const named = ops()
      .map((o) => o.op["x-pipeseal-permission"])
      .filter((x): x is string => x !== undefined);
    expect(named.length).toBeGreaterThan(25);
    expect(named.filter((x) => !(OPERATIONS as readonly string[]).includes(x))).toEqual([]);
  });

  it("documents the permission the service really checks (the decision record says which)", async () => {
    const stranger = h.keyring("stranger");
    const checked = [
      "wrap",
      "generateWrapped",
      "generate",
      "showPolicy",
      "listAudit",
      "verifyAudit",
      "exportAudit",
      "followAudit",
      "rotateKey",
      "unwrap",
      "listKeys",
      "listSecrets",
      "showSecret",
      "setSecret",
      "readSecret",
      "changeSecret",
      "verifyToken",
      "appendRecords",
    ];
    for (const id of checked) {
      const o = ops().find((x) => x.op.operationId === id)!;
      const done = o.method === "GET" ? stranger.client.stream(o.path, "*/*").then((b) => b.dump()) : stranger.client.call("POST", o.path, BODIES[id] ?? {});
      await expect(done, id).rejects.toMatchObject({ code: "ACCESS_DENIED" });
      const last = (await h.keyring("auditor").listAudit({ limit: 20 })).filter((r) => r.principal === WHO.stranger).at(-1)!;
      expect(last.operation, id).toBe(`authz.${o.op["x-pipeseal-permission"]}`);
    }
  });

  it("documents the audit export as JSON lines of a record schema with every documented field", () => {
    const get = doc.paths["/v1/audit/export"]!.get!;
    expect(get["x-pipeseal-permission"]).toBe("audit.export");
    expect(get.responses["200"]!.content!["application/x-ndjson"]!.schema).toEqual({ $ref: "#/components/schemas/auditExportRecord" });
    expect(doc.components.schemas.auditExportRecord!.required).toEqual(
      expect.arrayContaining(["seq", "time", "principal", "operation", "key", "version", "outcome", "errorCode", "rule", "chainHash"]),
    );
  });
});
