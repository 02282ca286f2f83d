/**
 * The decoys a running monitor watches: the registry's (keystore.db), plus every decoy it ever
 * saw there, kept in its sealed state. Someone who can write keystore.db but not the root key
 * could delete a decoy's registry row and then open the decoy unseen; a monitor that saw the
 * decoy once keeps watching it, and reports the deleted row as an audit-integrity problem.
 */
import type { PlantedDecoy } from "../honeytoken-match.js";

export interface DecoyMemory {
  readonly decoys: readonly PlantedDecoy[];
  /** Ids whose removal from the registry was already reported. */
  readonly removed: readonly string[];
}

export class DecoyWatch {
  readonly #known = new Map<string, PlantedDecoy>();
  readonly #removed: Set<string>;

  constructor(saved: DecoyMemory | undefined) {
    for (const d of saved?.decoys ?? []) this.#known.set(d.id, { id: d.id, key: d.key, headerHash: d.headerHash, path: d.path });
    this.#removed = new Set(saved?.removed ?? []);
  }

  /** Takes the registry's decoys; returns the known ones it no longer lists (each once). */
  refresh(registry: readonly PlantedDecoy[]): PlantedDecoy[] {
    const listed = new Set(registry.map((d) => d.id));
    for (const d of registry) this.#known.set(d.id, { id: d.id, key: d.key, headerHash: d.headerHash, path: d.path });
    const gone = [...this.#known.values()].filter((d) => !listed.has(d.id) && !this.#removed.has(d.id));
    for (const d of gone) this.#removed.add(d.id);
    return gone;
  }

  get all(): PlantedDecoy[] {
    return [...this.#known.values()];
  }

  toJSON(): DecoyMemory {
    return { decoys: this.all, removed: [...this.#removed] };
  }
}
