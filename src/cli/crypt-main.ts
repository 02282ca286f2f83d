/**
 * `pipeseal encrypt` and `pipeseal decrypt` alone (see bin.ts for why): the same program and
 * errors as main.ts, with only these two commands loaded. Their start-up is paid on every
 * file a pipeline seals; loading every command (the key service, PKI, posture …) cost about
 * 0.4 s of it, as long as sealing a whole gigabyte takes here.
 */
import { decryptCommand } from "./commands/decrypt.js";
import { encryptCommand } from "./commands/encrypt.js";
import { newProgram, runProgram } from "./program.js";

runProgram(newProgram(), [encryptCommand, decryptCommand]);
