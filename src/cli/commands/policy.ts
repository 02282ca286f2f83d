import { readFileSync } from "node:fs";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { PolicySummary } from "../../client/remote-keyring.js";
import { printable } from "../output.js";
import { policyTemplate } from "../../server/templates.js";
import { checkTemplateOptions, templateOptions } from "./serve.js";
import { emit, withService } from "../session.js";

/** `pipeseal policy propose|approve` through the key service (two distinct policy admins). */
export function policyCommand(): Command {
  const policy = new Command("policy").description("propose and approve key-service policies (a second, different admin approves)");
  policy
    .command("propose <file>")
    .description("propose a policy (YAML); prints the proposal id")
    .option("--json", "print as JSON")
    .action(async (file: string, _o: unknown, cmd: Command) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        throw new UsageError("IO_ERROR", `cannot read ${file}`);
      }
      await withService(cmd, "policy", async (kr) => {
        const r = await kr.proposePolicy(text);
        emit(cmd, r, () => `proposed ${r.id}; another policy admin runs: pipeseal policy approve ${r.id}`);
      });
    });
  policy
    .command("approve <id>")
    .description("approve a proposal; it becomes the active policy")
    .option("--json", "print as JSON")
    .action(async (id: string, _o: unknown, cmd: Command) =>
      withService(cmd, "policy", async (kr) => {
        const r = await kr.approvePolicy(id);
        emit(cmd, r, () => `approved ${r.id} (proposed by ${r.proposer}); it is now the active policy`);
      }),
    );
  policy
    .command("show")
    .description("print the active policy's YAML (to edit and propose again); policy administrators only")
    .option("--json", "the active policy's record, YAML included, as JSON")
    .action(async (_o: unknown, cmd: Command) =>
      withService(cmd, "policy", async (kr) => {
        const { active } = await kr.showPolicy();
        if (cmd.opts().json) return emit(cmd, active, () => "");
        // no approved policy yet: the bootstrap file the service was started with decides
        if (!active)
          throw new UsageError(
            "NOT_FOUND",
            "no policy has been approved through the service yet; the service runs on its bootstrap policy file (keyservice.yaml `policy:`)",
          );
        process.stderr.write(
          `active policy ${active.id}: proposed by ${printable(active.proposer)}, approved by ${printable(active.approver ?? "?")} at ${when(active.approvedAt)}\n`,
        );
        process.stdout.write(active.yaml.endsWith("\n") ? active.yaml : `${active.yaml}\n`);
      }),
    );
  policy
    .command("list")
    .description("the active policy and the open proposals (id, proposer, when); policy administrators only")
    .option("--json", "print as JSON")
    .action(async (_o: unknown, cmd: Command) =>
      withService(cmd, "policy", async (kr) => {
        const { active, proposals } = await kr.showPolicy();
        const rows: PolicySummary[] = [...(active ? [withoutYaml(active)] : []), ...proposals];
        emit(cmd, rows, () =>
          rows.length === 0
            ? "no approved policy and no open proposal (the bootstrap policy file decides)"
            : rows
                .map(
                  (r) =>
                    `${r.id}  ${r.state.padEnd(8)}  proposed by ${printable(r.proposer)} at ${when(r.proposedAt)}${r.approver ? `, approved by ${printable(r.approver)}` : ""}`,
                )
                .join("\n"),
        );
      }),
    );
  policy.addCommand(
    templateOptions(new Command("init"))
      .description("print a starting policy: the four built-in roles bound with separation of duties (pipeseal policy init > policy.yaml)")
      .action((opts: { trustDomain: string; env: string }) => {
        process.stdout.write(policyTemplate(checkTemplateOptions(opts)));
      }),
  );
  return policy;
}

function withoutYaml(record: PolicySummary & { yaml: string }): PolicySummary {
  const { yaml: _yaml, ...summary } = record;
  return summary;
}

const when = (ms: number | null) => (ms === null ? "?" : new Date(ms).toISOString());
