/** The pipeline's stages, in the order the demo runs them. */
import { evidenceStage } from "./evidence.js";
import { featuresStage } from "./features.js";
import { inferenceStage } from "./inference.js";
import { ingestStage } from "./ingest.js";
import { keysStage } from "./keys.js";
import { monitorStage, startMonitor } from "./monitor.js";
import { processStage } from "./process.js";
import { registryStage } from "./registry.js";
import type { Stage } from "./runner.js";
import { trainStage } from "./train.js";

export function STAGES(o: { ui: boolean }): Stage[] {
  return [
    { name: "keys", title: "Keys and identities", run: keysStage },
    { name: "monitor", title: "Monitor: following the audit from here on", run: startMonitor },
    { name: "ingest", title: "Ingestion over mTLS into the sealed landing zone", run: ingestStage },
    { name: "process", title: "Processing: field-level protection", run: processStage },
    { name: "features", title: "Feature store and RAG corpus", run: featuresStage },
    { name: "train", title: "Training: PyTorch through the gateway", run: trainStage },
    { name: "registry", title: "Registry: signed, encrypted model", run: registryStage },
    { name: "inference", title: "Inference over mTLS", run: inferenceStage },
    { name: "incident", title: "Incident: a rogue identity opens a honeytoken", run: monitorStage },
    { name: "evidence", title: "Evidence: posture check and the four answers", run: (d) => evidenceStage(d, o) },
  ];
}
