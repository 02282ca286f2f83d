import { readFileSync } from "node:fs";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { emit, withService } from "../session.js";

/** `pipeseal policy propose|approve` through the key service (two distinct policy admins). */
export function policyCommand(): Command {
  const policy = new Command("policy").description("propose and approve key-service policies (a second, different admin approves)");
  policy
    .command("propose <file>")
    .description("propose a policy (YAML); prints the proposal id")
    .option("--json", "print as JSON")
    .action(async (file: string, _o, cmd: Command) => {
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
    .action(async (id: string, _o, cmd: Command) =>
      withService(cmd, "policy", async (kr) => {
        const r = await kr.approvePolicy(id);
        emit(cmd, r, () => `approved ${r.id} (proposed by ${r.proposer}); it is now the active policy`);
      }),
    );
  return policy;
}
