/** Encrypted retrieval corpora for RAG (docs/rag.md). */
export { Corpus, corpusStats, openCorpus } from "./corpus.js";
export type { OpenCorpusOptions } from "./corpus.js";
export type { ChunkInput, CorpusInfo, CorpusOptions, FilterValue, RetrieveQuery, RetrieveResult, RetrievedChunk } from "./types.js";
export { MAX_K, MAX_CHUNK_ID_BYTES } from "./types.js";
export { cosine } from "./vector.js";
