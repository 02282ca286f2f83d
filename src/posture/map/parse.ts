/**
 * `pipeline.yaml` → PipelineMap. Hand-checked over the YAML node tree (as the policy parser
 * does) so every error names the line of the node at fault; docs/posture.md is the schema.
 */
import path from "node:path";
import { LineCounter, type Node, type YAMLMap, parseDocument } from "yaml";
import { PipesealError } from "../../errors.js";
import { yamlErrorPosition, yamlMessage } from "../../io/yaml.js";
import { KEY_NAME_PATTERN } from "../../keys/names.js";
import {
  CLASSIFICATIONS,
  STAGES,
  type ComputeSpec,
  type ConnectionSpec,
  type PipelineMap,
  type StageId,
  type StageSpec,
  type StoreKind,
  type StoreSpec,
} from "../types.js";
import { MapReader } from "./nodes.js";

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID_HINT = "use lowercase letters, digits, '.', '_' or '-'";
const CONTEXT_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const STORE_KINDS: readonly StoreKind[] = ["folder", "glob", "s3", "postgres", "logs"];
const DEFAULT_PLAINTEXT_MAX_AGE = 24 * 3600;

const TOP = ["version", "name", "keys", "plaintextMaxAge", "stages", "connections"];
const STORE_KEYS = ["id", "kind", "path", "url", "table", "columns", "classification", "key", "context", "retention"];
const COMPUTE_KEYS = ["id", "kind", "path", "principal"];
const CONNECTION_KEYS = ["id", "from", "to", "url", "mtls", "classification", "ca", "certDir"];

/**
 * Parses and validates a pipeline map. Relative paths resolve against `baseDir`.
 * @example const map = parseMap(readFileSync("pipeline.yaml", "utf8"), "/srv/ml");
 * @throws PipesealError(MAP_INVALID) "pipeline.yaml:LINE: …" for the first problem found.
 */
export function parseMap(text: string, baseDir: string, file = "pipeline.yaml"): PipelineMap {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const { line } = yamlErrorPosition(e, lc);
    throw new PipesealError("MAP_INVALID", `${file}:${line}: YAML: ${yamlMessage(e)}`);
  }
  const r = new MapReader(file, lc);
  const root = r.map(doc.contents, "top-level", TOP);
  const version = r.get(root, "version");
  if (version === undefined || (version as { toJSON(): unknown }).toJSON() !== 1) r.fail(version ?? root, "`version: 1` is required");
  const name = r.str(r.get(root, "name") ?? root, "name");
  const resolve = (p: string) => path.resolve(baseDir, p);
  const ids = new Map<string, number>();
  const claim = (id: string, node: Node) => {
    const first = ids.get(id);
    if (first !== undefined) r.fail(node, `id "${id}" is already used on line ${first}; ids are unique across stores, compute and connections`);
    ids.set(id, r.lineOf(node));
  };

  const keysNode = r.get(root, "keys");
  let keys: PipelineMap["keys"] = {};
  if (keysNode !== undefined) {
    const k = r.map(keysNode, "keys", ["home", "server", "certDir"]);
    const home = r.optStr(k, "home", "keys.home");
    const server = r.optStr(k, "server", "keys.server", /^https:\/\/\S+$/, "the key service URL starts with https://");
    const certDir = r.optStr(k, "certDir", "keys.certDir");
    if (home && server) r.fail(keysNode, "keys takes either `home` (a local keystore) or `server` (a key service), not both");
    if (server && !certDir) r.fail(keysNode, "keys.server needs keys.certDir (a folder with cert.pem, key.pem, ca.pem)");
    keys = { ...(home ? { home: resolve(home) } : {}), ...(server ? { server } : {}), ...(certDir ? { certDir: resolve(certDir) } : {}) };
  }

  const stageNodes = new Map<StageId, YAMLMap>();
  const stagesNode = r.get(root, "stages");
  if (stagesNode === undefined) r.fail(root, "`stages` is required");
  for (const item of r.map(stagesNode, "stages", STAGES).items) {
    const id = (item.key as { value: StageId }).value;
    if (item.value === null || (item.value as { value?: unknown }).value === null) continue;
    stageNodes.set(id, r.map(item.value, `stage ${id}`, ["description", "stores", "compute"]));
  }
  const stages: StageSpec[] = STAGES.map((id) => {
    const m = stageNodes.get(id);
    if (!m) return { id, stores: [], compute: [] };
    const description = r.optStr(m, "description", `${id}.description`);
    const stores = r.seq(r.get(m, "stores"), `${id}.stores`).map((n) => readStore(r, n, resolve, claim));
    const compute = r.seq(r.get(m, "compute"), `${id}.compute`).map((n) => readCompute(r, n, resolve, claim));
    return { id, ...(description ? { description } : {}), stores, compute };
  });

  const connections = r.seq(r.get(root, "connections"), "connections").map((n): ConnectionSpec => {
    const c = r.map(n, "connection", CONNECTION_KEYS);
    const id = r.str(r.get(c, "id") ?? c, "connection id", ID, ID_HINT);
    claim(id, r.get(c, "id")!);
    const url = r.str(
      r.get(c, "url") ?? c,
      `connection ${id} url`,
      /^(https|tls|http):\/\/[^\s/]+/,
      "use https://host:port, tls://host:port or http://host:port",
    );
    const ca = r.optStr(c, "ca", `connection ${id} ca`);
    const certDir = r.optStr(c, "certDir", `connection ${id} certDir`);
    return {
      id,
      from: r.oneOf(r.get(c, "from") ?? c, `connection ${id} from`, STAGES),
      to: r.oneOf(r.get(c, "to") ?? c, `connection ${id} to`, STAGES),
      url,
      mtls: r.bool(r.get(c, "mtls"), `connection ${id} mtls`, false),
      classification: r.oneOf(r.get(c, "classification") ?? c, `connection ${id} classification`, CLASSIFICATIONS),
      ...(ca ? { ca: resolve(ca) } : {}),
      ...(certDir ? { certDir: resolve(certDir) } : {}),
    };
  });

  const plaintextMaxAgeSeconds = r.duration(r.get(root, "plaintextMaxAge"), "plaintextMaxAge") ?? DEFAULT_PLAINTEXT_MAX_AGE;
  return { version: 1, name, baseDir: path.resolve(baseDir), keys, stages, connections, plaintextMaxAgeSeconds };
}

type Claim = (id: string, node: Node) => void;

function readStore(r: MapReader, node: Node, resolve: (p: string) => string, claim: Claim): StoreSpec {
  const m = r.map(node, "store", STORE_KEYS);
  const id = r.str(r.get(m, "id") ?? m, "store id", ID, ID_HINT);
  claim(id, r.get(m, "id")!);
  const kind = r.oneOf(r.get(m, "kind") ?? m, `store ${id} kind`, STORE_KINDS);
  const rawPath = r.optStr(m, "path", `store ${id} path`);
  const url = r.optStr(m, "url", `store ${id} url`);
  const table = r.optStr(m, "table", `store ${id} table`, /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, "schema.table of letters, digits and _");
  const columnsNode = r.get(m, "columns");
  const columns =
    columnsNode === undefined ? undefined : r.seq(columnsNode, `store ${id} columns`).map((c) => r.str(c, "a column", /^[A-Za-z_][A-Za-z0-9_]*$/));
  const need = (ok: unknown, what: string) => ok || r.fail(m, `store ${id} (${kind}) needs ${what}`);
  if (kind === "folder" || kind === "logs" || kind === "glob") need(rawPath, "`path`");
  if (kind === "s3") need(url && /^s3:\/\/[^/\s]+/.test(url), "`url: s3://bucket/prefix`");
  if (kind === "postgres") {
    need(url && /^postgres(ql)?:\/\//.test(url), "`url: postgres://…`");
    need(table, "`table`");
    need(columns && columns.length > 0, "`columns` (the columns that must hold pipeseal field tokens)");
  }
  const key = r.optStr(m, "key", `store ${id} key`, KEY_NAME_PATTERN, "a pipeseal key name");
  const context = r.strMap(r.get(m, "context"), `store ${id} context`, CONTEXT_KEY);
  const retentionSeconds = r.duration(r.get(m, "retention"), `store ${id} retention`);
  return {
    id,
    kind,
    ...(rawPath ? { path: kind === "glob" ? globPath(rawPath, resolve) : resolve(rawPath) } : {}),
    ...(url ? { url } : {}),
    ...(table ? { table } : {}),
    ...(columns ? { columns } : {}),
    classification: r.oneOf(r.get(m, "classification") ?? m, `store ${id} classification`, CLASSIFICATIONS),
    ...(key ? { key } : {}),
    ...(context ? { context } : {}),
    ...(retentionSeconds !== undefined ? { retentionSeconds } : {}),
  };
}

/** A glob keeps its pattern part as written, `/`-separated, under an absolute base. */
function globPath(pattern: string, resolve: (p: string) => string): string {
  return path.isAbsolute(pattern) ? pattern : resolve(".").split(path.sep).join("/") + "/" + pattern.replace(/^\.\//, "");
}

function readCompute(r: MapReader, node: Node, resolve: (p: string) => string, claim: Claim): ComputeSpec {
  const m = r.map(node, "compute", COMPUTE_KEYS);
  const id = r.str(r.get(m, "id") ?? m, "compute id", ID, ID_HINT);
  claim(id, r.get(m, "id")!);
  const p = r.optStr(m, "path", `compute ${id} path`);
  const principal = r.optStr(m, "principal", `compute ${id} principal`);
  return {
    id,
    kind: r.oneOf(r.get(m, "kind") ?? m, `compute ${id} kind`, ["job", "notebook", "service"] as const),
    ...(p ? { path: resolve(p) } : {}),
    ...(principal ? { principal } : {}),
  };
}
