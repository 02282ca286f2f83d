/** The pipeline's stages, in the order the demo runs them. */
import { featuresStage } from "./features.js";
import { ingestStage } from "./ingest.js";
import { processStage } from "./process.js";
import { trainStage } from "./train.js";
import { registryStage } from "./registry.js";
import { inferenceStage } from "./inference.js";
import { keysStage } from "./keys.js";
import type { Stage } from "./runner.js";

export function STAGES(_o: { ui: boolean }): Stage[] {
  return [
    { title: "Keys and identities", run: keysStage },
    { title: "Ingestion over mTLS into the sealed landing zone", run: ingestStage },
    { title: "Processing: field-level protection", run: processStage },
    { title: "Feature store and RAG corpus", run: featuresStage },
    { title: "Training: PyTorch through the gateway", run: trainStage },
    { title: "Registry: signed, encrypted model", run: registryStage },
    { title: "Inference over mTLS", run: inferenceStage },
  ];
}
