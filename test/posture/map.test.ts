import { describe, expect, it } from "vitest";
import { MAP_TEMPLATE, STAGES, parseMap } from "../../src/posture/index.js";
import { isPipesealError } from "../../src/errors.js";

function mapError(text: string): string {
  try {
    parseMap(text, "/srv/ml");
  } catch (e) {
    expect(isPipesealError(e) && e.code).toBe("MAP_INVALID");
    return (e as Error).message;
  }
  throw new Error("expected MAP_INVALID");
}

const HEAD = "version: 1\nname: t\nstages:\n  landing:\n    stores:\n";

describe("pipeline.yaml", () => {
  it("the template `posture init` prints parses, with all eight stages and every store kind", () => {
    const map = parseMap(MAP_TEMPLATE, "/srv/ml");
    expect(map.stages.map((s) => s.id)).toEqual([...STAGES]);
    const stores = map.stages.flatMap((s) => s.stores);
    expect(new Set(stores.map((s) => s.kind))).toEqual(new Set(["folder", "glob", "s3", "postgres", "logs"]));
    expect(stores.find((s) => s.id === "landing-raw")).toMatchObject({
      path: "/srv/ml/data/landing",
      retentionSeconds: 30 * 86400,
      context: { stage: "landing" },
      key: "datasets/raw",
    });
    expect(stores.find((s) => s.id === "training-sets")!.path).toBe("/srv/ml/data/training/**/*.parquet.pseal");
    expect(map.keys.home).toBe("/srv/ml/.pipeseal");
    expect(map.plaintextMaxAgeSeconds).toBe(86400);
    expect(map.connections[0]).toMatchObject({ from: "ingestion", to: "landing", mtls: true });
  });

  it("errors name the file and the line of the node at fault", () => {
    expect(mapError(HEAD + "      - { id: a, kind: folder, path: x, classification: pii, retention: 90 days }\n")).toMatch(
      /^pipeline\.yaml:6: store a retention must be a duration/,
    );
    expect(mapError(HEAD + "      - id: a\n        kind: bucket\n")).toMatch(/^pipeline\.yaml:7: store a kind must be one of folder, glob, s3, postgres, logs/);
    expect(mapError(HEAD + "      - { id: a, kind: folder, path: x, classification: secretish }\n")).toMatch(
      /^pipeline\.yaml:6: store a classification must be one of/,
    );
    expect(
      mapError(HEAD + "      - { id: a, kind: folder, path: x, classification: pii }\n      - { id: a, kind: folder, path: y, classification: pii }\n"),
    ).toMatch(/^pipeline\.yaml:7: id "a" is already used on line 6/);
    expect(mapError(HEAD + "      - { id: a, kind: postgres, url: postgres://h/db, classification: pii }\n")).toMatch(
      /^pipeline\.yaml:6: store a \(postgres\) needs `table`/,
    );
    expect(mapError(HEAD + "      - { id: a, kind: folder, path: x, classification: pii, colour: red }\n")).toMatch(
      /^pipeline\.yaml:6: unknown store key "colour"/,
    );
    expect(mapError("version: 1\nname: t\nstages:\n  lakehouse: {}\n")).toMatch(/^pipeline\.yaml:4: unknown stages key "lakehouse"/);
    expect(mapError("version: 2\nname: t\nstages: {}\n")).toMatch(/^pipeline\.yaml:1: `version: 1` is required/);
    expect(mapError("version: 1\nname: t\nstages:\n  landing: [\n")).toMatch(/^pipeline\.yaml:\d+: YAML: /);
    expect(
      mapError("version: 1\nname: t\nstages: {}\nconnections:\n  - { id: c, from: landing, to: nowhere, url: https://h:1, classification: pii }\n"),
    ).toMatch(/^pipeline\.yaml:5: connection c to must be one of/);
    expect(mapError(HEAD + "      - { id: a, kind: folder, path: x, classification: pii, key: Bad Key }\n")).toMatch(
      /^pipeline\.yaml:6: store a key "Bad Key" is not valid/,
    );
  });

  it("missing stages are empty; relative paths resolve against the map's folder", () => {
    const map = parseMap(HEAD + "      - { id: a, kind: logs, path: ../logs, classification: internal }\n", "/srv/ml/maps");
    expect(map.stages).toHaveLength(8);
    expect(map.stages[1]!.stores[0]!.path).toBe("/srv/ml/logs");
    expect(map.stages[0]).toEqual({ id: "ingestion", stores: [], compute: [] });
  });
});
