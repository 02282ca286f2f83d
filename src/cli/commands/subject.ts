import { readFileSync } from "node:fs";
import { Command } from "commander";
import { PipesealError, UsageError } from "../../errors.js";
import { type EraseResult, type SubjectStatus, subjectKeys } from "../../fields/subjects/index.js";
import { confirmDestructive } from "../confirm.js";
import { emit, withKeystore } from "../session.js";

/**
 * Subject ids are personal data (a customer number, an e-mail address). On the command line
 * they are visible to every user of the machine (`ps`, /proc/<pid>/cmdline) and stay in shell
 * history, so every subject command also takes them from stdin (`-` in place of the id) or a
 * file (`--from-file`, one per line; `--ids-file` is the older name). They are never printed;
 * output names subjects by keyId (a keyed pseudonym).
 */
const WHY = `
Subject ids are personal data: given as [id] on the command line they are visible to other users
(ps, /proc) and kept in shell history. Prefer stdin or a file, one id per line:
  printf '%s\\n' "$ID" | pipeseal subject erase - --namespace customers
  pipeseal subject erase --from-file ids.txt --namespace customers`;

interface IdSourceOptions {
  namespace: string;
  fromFile?: string;
  idsFile?: string;
  json?: boolean;
}
interface EraseOptions extends IdSourceOptions {
  inAdvance?: boolean;
  yes?: boolean;
}
interface RecreateOptions extends IdSourceOptions {
  yes?: boolean;
}
interface ListOptions {
  namespace?: string;
  refs?: boolean;
  json?: boolean;
}

function subjectIds(id: string | undefined, opts: IdSourceOptions): string[] {
  const file = opts.fromFile ?? opts.idsFile;
  if (opts.fromFile !== undefined && opts.idsFile !== undefined)
    throw new UsageError("INVALID_ARGUMENT", "--from-file and --ids-file are the same option; give one");
  if ((id === undefined) === (file === undefined))
    throw new UsageError("INVALID_ARGUMENT", "give a subject id, - to read ids from stdin, or --from-file FILE (one id per line), not several");
  const source = id === "-" || file === "-" ? 0 : file;
  if (source === undefined) return [id as string];
  const text = readFileSync(source, "utf8");
  const ids = text.split(/\r?\n/).filter((l) => l !== "");
  if (ids.length === 0) throw new UsageError("INVALID_ARGUMENT", `${source === 0 ? "stdin" : file} holds no subject ids`);
  return ids;
}

export function subjectCommand(): Command {
  const subject = new Command("subject").description("per-subject keys: erase a data subject by crypto-shredding its key (docs/rag.md)");
  subject
    .command("erase [id]")
    .description(
      "destroy a subject's key: every copy of its protected fields and corpus chunks becomes unreadable (audited subject.erase; idempotent). [id] - reads ids from stdin",
    )
    .option("--namespace <ns>", "subject namespace", "default")
    .option("--from-file <path>", "erase the subject ids listed one per line in this file (- for stdin) instead of [id]")
    .option("--ids-file <path>", "the same as --from-file (older name)")
    .option("--in-advance", "also erase subjects never seen (a tombstone: their first use reports erased)")
    .option("-y, --yes", "confirm (needed when there is no terminal to ask)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", WHY)
    .action(async (id: string | undefined, opts: EraseOptions, cmd: Command) => {
      const ids = subjectIds(id, opts);
      // A silent miss is the worst answer to an erasure request: an unknown namespace or a subject
      // this keystore never saw is an error (nothing is erased), unless --in-advance says it is meant.
      await withKeystore(cmd, async (ks) => {
        const keys = subjectKeys(ks);
        const unknown: number[] = [];
        for (const [i, one] of ids.entries()) if ((await keys.status(opts.namespace, one)).state === "unknown") unknown.push(i + 1);
        if (unknown.length > 0 && !opts.inAdvance) {
          const known = keys.summary().map((s) => s.namespace);
          const where = known.includes(opts.namespace)
            ? `in namespace "${opts.namespace}"`
            : `because namespace "${opts.namespace}" does not exist (namespaces: ${known.join(", ") || "none"})`;
          const which = ids.length === 1 ? "the subject is" : `subject(s) #${unknown.slice(0, 10).join(", #")} of ${ids.length} are`;
          throw new PipesealError(
            "SUBJECT_NOT_FOUND",
            `nothing was erased: ${which} unknown ${where}; check the id and --namespace, or add --in-advance to erase before first use`,
          );
        }
        const question = `Erasing ${ids.length} subject(s) in "${opts.namespace}" cannot be undone. Type 'erase' to confirm: `;
        await confirmDestructive({ yes: opts.yes, question, expected: "erase", nothing: "nothing was erased" });
        const results: EraseResult[] = [];
        for (const one of ids) results.push(await keys.erase(opts.namespace, one));
        emit(cmd, { namespace: opts.namespace, erased: results }, () =>
          results
            .map(
              (r) =>
                `${r.alreadyErased ? "already erased" : "erased"} ${r.keyId}${r.walTruncated ? "" : " (WAL truncation deferred: another process holds the keystore)"}`,
            )
            .join("\n"),
        );
      });
    });
  subject
    .command("status [id]")
    .description("a subject's state: active, erased or unknown (by keyId; never prints the id). [id] - reads ids from stdin")
    .option("--namespace <ns>", "subject namespace", "default")
    .option("--from-file <path>", "subject ids one per line (- for stdin) instead of [id]")
    .option("--ids-file <path>", "the same as --from-file (older name)")
    .option("--json", "print JSON")
    .addHelpText("after", WHY.replaceAll("subject erase", "subject status"))
    .action(async (id: string | undefined, opts: IdSourceOptions, cmd: Command) => {
      const ids = subjectIds(id, opts);
      await withKeystore(cmd, async (ks) => {
        const keys = subjectKeys(ks);
        const out: SubjectStatus[] = [];
        for (const one of ids) out.push(await keys.status(opts.namespace, one));
        const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());
        emit(cmd, ids.length === 1 ? out[0] : out, () =>
          out
            .map(
              (s) =>
                `${s.keyId ?? `${s.namespace}:?`}  ${s.state}${s.version === null ? "" : ` v${s.version}`}${s.createdAt ? `  created ${iso(s.createdAt)}` : ""}${s.erasedAt ? `  erased ${iso(s.erasedAt)}` : ""}`,
            )
            .join("\n"),
        );
      });
    });
  subject
    .command("list")
    .description("subject counts per namespace (hashed keyIds with --refs; never clear ids)")
    .option("--namespace <ns>", "only this namespace")
    .option("--refs", "also list every subject's keyId, version and state")
    .option("--json", "print JSON")
    .action((opts: ListOptions, cmd: Command) =>
      withKeystore(cmd, (ks) => {
        const summary = subjectKeys(ks).summary(opts.namespace, { refs: Boolean(opts.refs) });
        emit(cmd, summary, () =>
          summary.length === 0
            ? "no subject namespaces"
            : summary
                .map((n) =>
                  [
                    `${n.namespace}  active ${n.active}  erased ${n.erased}  (key ${n.keyName})`,
                    ...(n.subjects ?? []).map((s) => `  ${s.keyId}  v${s.version}  ${s.state}`),
                  ].join("\n"),
                )
                .join("\n"),
        );
      }),
    );
  subject
    .command("recreate [id]")
    .description(
      "give an erased subject a new key (version + 1; audited subject.recreate). Data under the erased key stays unreadable. [id] - reads the id from stdin",
    )
    .option("--namespace <ns>", "subject namespace", "default")
    .option("--from-file <path>", "read the subject id from this file (- for stdin) instead of [id]")
    .option("-y, --yes", "confirm: this is a deliberate re-creation after erasure")
    .option("--json", "print JSON")
    .addHelpText("after", WHY.replaceAll("subject erase", "subject recreate --yes"))
    .action(async (id: string | undefined, opts: RecreateOptions, cmd: Command) => {
      if (!opts.yes) throw new UsageError("INVALID_ARGUMENT", "re-creating an erased subject must be deliberate: add --yes");
      const ids = subjectIds(id, opts);
      if (ids.length !== 1) throw new UsageError("INVALID_ARGUMENT", `recreate takes one subject id (got ${ids.length})`);
      await withKeystore(cmd, async (ks) => {
        const r = await subjectKeys(ks).recreate(opts.namespace, ids[0]);
        emit(cmd, r, () => `recreated ${r.keyId} as v${r.version}`);
      });
    });
  return subject;
}
