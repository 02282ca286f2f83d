#!/usr/bin/env node
/** The `pipeseal` command: parses arguments, calls the library, prints. */
import { auditCommand } from "./commands/audit.js";
import { caCommand } from "./commands/ca.js";
import { corpusCommand } from "./commands/corpus.js";
import { checkpointCommand } from "./commands/checkpoint.js";
import { completionCommand } from "./commands/completion.js";
import { decryptCommand } from "./commands/decrypt.js";
import { dpCommand } from "./commands/dp.js";
import { encryptCommand } from "./commands/encrypt.js";
import { fieldsCommand } from "./commands/fields.js";
import { gatewayCommand } from "./commands/gateway.js";
import { honeytokenCommand } from "./commands/honeytoken.js";
import { initCommand } from "./commands/init.js";
import { inspectCommand } from "./commands/inspect.js";
import { keyCommand } from "./commands/key.js";
import { logsCommand } from "./commands/logs.js";
import { modelCommand } from "./commands/model.js";
import { monitorCommand } from "./commands/monitor.js";
import { redactCommand } from "./commands/redact.js";
import { registryCommand } from "./commands/registry.js";
import { rewrapCommand } from "./commands/rewrap.js";
import { scanCommand } from "./commands/scan.js";
import { secretCommand } from "./commands/secret.js";
import { secaggCommand } from "./commands/secagg.js";
import { runCommand } from "./commands/run.js";
import { serveCommand } from "./commands/serve.js";
import { policyCommand } from "./commands/policy.js";
import { tokenCommand } from "./commands/token.js";
import { postureCommand } from "./commands/posture.js";
import { subjectCommand } from "./commands/subject.js";
import { tlsCommand } from "./commands/tls.js";
import { uiCommand } from "./commands/ui.js";
import { newProgram, runProgram } from "./program.js";

runProgram(newProgram(), [
  initCommand,
  keyCommand,
  encryptCommand,
  decryptCommand,
  inspectCommand,
  rewrapCommand,
  auditCommand,
  tlsCommand,
  caCommand,
  scanCommand,
  logsCommand,
  redactCommand,
  modelCommand,
  registryCommand,
  checkpointCommand,
  subjectCommand,
  corpusCommand,
  fieldsCommand,
  serveCommand,
  gatewayCommand,
  policyCommand,
  tokenCommand,
  postureCommand,
  secretCommand,
  runCommand,
  monitorCommand,
  honeytokenCommand,
  secaggCommand,
  dpCommand,
  uiCommand,
  completionCommand,
]);
