import { createReadStream, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { type ChunkInput, type FilterValue, type RetrieveResult, corpusStats, openCorpus } from "../../fields/corpus/index.js";
import { emit, keystoreHome, withKeystore } from "../session.js";

function corpusFile(cmd: Command, given: string | undefined): string {
  return path.resolve(given ?? path.join(keystoreHome(cmd), "corpus.db"));
}

/** `k=v` compares v as a string; `k:=v` parses v as JSON (a number or boolean): `page:=3`. */
function parseFilters(list: string[]): Record<string, FilterValue> {
  const out: Record<string, FilterValue> = {};
  for (const item of list) {
    const json = /^([^=:]+):=(.*)$/.exec(item);
    const plain = /^([^=]+)=(.*)$/.exec(item);
    if (json !== null) {
      let v: unknown;
      try {
        v = JSON.parse(json[2]);
      } catch {
        throw new UsageError("INVALID_ARGUMENT", `--filter ${json[1]}:= needs a JSON number or boolean`);
      }
      if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "string")
        throw new UsageError("INVALID_ARGUMENT", `--filter ${json[1]}:= needs a JSON number, boolean or string`);
      out[json[1]] = v;
    } else if (plain !== null) out[plain[1]] = plain[2];
    else throw new UsageError("INVALID_ARGUMENT", `--filter takes field=value or field:=json (got "${item.slice(0, 40)}")`);
  }
  return out;
}

async function* readChunks(file: string): AsyncGenerator<ChunkInput> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    try {
      yield JSON.parse(text) as ChunkInput;
    } catch {
      throw new UsageError("INVALID_ARGUMENT", `${file}: line ${line} is not JSON`);
    }
  }
}

function human(r: RetrieveResult): string {
  const lines = r.chunks.map(
    (c) => `${c.score === undefined ? "" : c.score.toFixed(4) + "  "}${c.id}  ${JSON.stringify(c.metadata)}\n    ${c.text.replace(/\n/g, "\n    ")}`,
  );
  lines.push(`${r.chunks.length} chunk(s)${r.erased ? `, ${r.erased} of erased subjects skipped` : ""}, ${r.scanned} examined`);
  return lines.join("\n");
}

interface AddOptions {
  file?: string;
  vectors?: string;
  filterFields?: string;
  subjectNamespace?: string;
  key?: string;
  batch: string;
  json?: boolean;
}
interface QueryOptions {
  file?: string;
  filter: string[];
  k: string;
  vectorFile?: string;
  onBehalfOf?: string;
  json?: boolean;
}
interface FileOptions {
  file?: string;
  json?: boolean;
}

export function corpusCommand(): Command {
  const corpus = new Command("corpus").description("encrypted RAG corpora: add chunks, query with audited decrypt-at-retrieval (docs/rag.md)");
  const fileOption = "--file <path>";
  const fileHelp = "corpus store (default: <keystore home>/corpus.db)";
  corpus
    .command("add <corpus> <chunks>")
    .description("add JSON lines {id, text, metadata?, vector?, subject?} (- for stdin); creates the corpus on first use")
    .option(fileOption, fileHelp)
    .option("--vectors <mode>", "when creating: plain (searchable elsewhere, invertible) or encrypted (brute-force only)")
    .option("--filter-fields <list>", "when creating: comma-separated metadata fields kept filterable (blind indexes)")
    .option("--subject-namespace <ns>", "when creating: the subject namespace of chunks with a subject")
    .option("--key <name>", "when creating: keystore key wrapping the corpus key (default corpus/<corpus>)")
    .option("--batch <n>", "chunks per transaction (one audit record each)", "1000")
    .option("--json", "print a summary as JSON")
    .action(async (name: string, chunks: string, opts: AddOptions, cmd: Command) => {
      const batch = Number(opts.batch);
      if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError("INVALID_ARGUMENT", "--batch must be a positive integer");
      await withKeystore(cmd, async (ks) => {
        const c = await openCorpus(ks, {
          file: corpusFile(cmd, opts.file),
          name,
          create: {
            ...(opts.vectors ? { vectors: opts.vectors as "plain" | "encrypted" } : {}), // openCorpus refuses any other mode
            ...(opts.filterFields !== undefined
              ? {
                  filterFields: opts.filterFields
                    .split(",")
                    .map((f) => f.trim())
                    .filter(Boolean),
                }
              : {}),
            ...(opts.subjectNamespace ? { subjectNamespace: opts.subjectNamespace } : {}),
            ...(opts.key ? { keyName: opts.key } : {}),
          },
        });
        try {
          let added = 0;
          let replaced = 0;
          let pending: ChunkInput[] = [];
          const flush = async () => {
            if (pending.length === 0) return;
            const r = await c.add(pending);
            added += r.added;
            replaced += r.replaced;
            pending = [];
          };
          for await (const chunk of readChunks(chunks)) {
            pending.push(chunk);
            if (pending.length >= batch) await flush();
          }
          await flush();
          emit(cmd, { corpus: name, added, replaced }, () => `added ${added}, replaced ${replaced} chunk(s) in corpus ${name}`);
        } finally {
          c.close();
        }
      });
    });
  corpus
    .command("query <corpus>")
    .description("retrieve chunks (decrypted; one audit record per query naming filter fields, never values)")
    .option(fileOption, fileHelp)
    .option(
      "--filter <field=value>",
      "equality on a filter field (field:=json for numbers/booleans); repeatable",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--k <n>", "how many chunks", "5")
    .option("--vector-file <path>", 'a JSON array (or {"vector": [...]}) to rank by cosine similarity')
    .option("--on-behalf-of <user>", "end user recorded in the audit record")
    .option("--json", "print JSON")
    .action(async (name: string, opts: QueryOptions, cmd: Command) => {
      let vector: number[] | undefined;
      if (opts.vectorFile) {
        const parsed = JSON.parse(readFileSync(opts.vectorFile, "utf8")) as unknown;
        vector = (Array.isArray(parsed) ? parsed : (parsed as { vector?: number[] })?.vector) as number[] | undefined;
        if (!Array.isArray(vector)) throw new UsageError("INVALID_ARGUMENT", `${opts.vectorFile} holds no vector`);
      }
      const filter = parseFilters(opts.filter);
      await withKeystore(cmd, async (ks) => {
        const c = await openCorpus(ks, { file: corpusFile(cmd, opts.file), name });
        try {
          const r = await c.retrieve({ k: Number(opts.k), filter, ...(vector ? { vector } : {}), ...(opts.onBehalfOf ? { onBehalfOf: opts.onBehalfOf } : {}) });
          emit(cmd, r, () => human(r));
        } finally {
          c.close();
        }
      });
    });
  corpus
    .command("stats [corpus]")
    .description("chunk counts, dimensions and options per corpus (decrypts nothing, needs no keys)")
    .option(fileOption, fileHelp)
    .option("--json", "print JSON")
    .action((name: string | undefined, opts: FileOptions, cmd: Command) => {
      const all = corpusStats(corpusFile(cmd, opts.file)).filter((s) => name === undefined || s.name === name);
      if (name !== undefined && all.length === 0) throw new UsageError("INVALID_ARGUMENT", `no corpus named "${name}"`);
      emit(
        cmd,
        all,
        () =>
          all
            .map(
              (s) =>
                `${s.name}  ${s.chunks} chunk(s) (${s.subjectChunks} subject-sealed)  vectors ${s.vectors}${s.dimensions ? ` ×${s.dimensions}` : ""}  filter fields [${s.filterFields.join(", ")}]  subjects ${s.subjectNamespace}  key ${s.keyName}`,
            )
            .join("\n") || "no corpora",
      );
    });
  corpus
    .command("purge <corpus>")
    .description("delete the rows of erased subjects' chunks (also their plain vectors and blind indexes); audited corpus.purge")
    .option(fileOption, fileHelp)
    .option("--json", "print JSON")
    .action(async (name: string, opts: FileOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const c = await openCorpus(ks, { file: corpusFile(cmd, opts.file), name });
        try {
          const r = await c.purgeErased();
          emit(cmd, r, () => `purged ${r.purged} chunk(s) of erased subjects from ${name}`);
        } finally {
          c.close();
        }
      }),
    );
  return corpus;
}
