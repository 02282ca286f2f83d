/** Encrypted retrieval corpora for RAG (docs/rag.md). */
export { Corpus } from "./corpus.js";
export { corpusStats } from "./info.js";
export { openCorpus } from "./open.js";
export type { OpenCorpusOptions } from "./open.js";
export type { ChunkInput, CorpusInfo, CorpusOptions, FilterValue, RetrieveQuery, RetrieveResult, RetrievedChunk } from "./types.js";
export { MAX_K, MAX_CHUNK_ID_BYTES } from "./types.js";
export { cosine } from "./vector.js";
