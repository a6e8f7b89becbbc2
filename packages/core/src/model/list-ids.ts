import { IdTable } from './id-table.js';

/**
 * An `IdTable` over the ids of an append-only list of the model (principals, business units),
 * built on first use and brought up to date on each later one. Entries are only ever appended and
 * keep their id, so only new ones need adding; but a failed transaction pops the ones it added,
 * and later ones may take their indexes. So the table is built again when the last entry it holds
 * is no longer there (popped from the end, any pop of an entry it holds pops that one too): a
 * caller that asked from inside an `apply` that then failed would otherwise keep a dead id.
 */
export class ListIdTable<T extends { readonly id: string }> {
  private table: IdTable | null;
  private added: number;
  /** The entry at `added - 1` when the table was last brought up to date. */
  private last: T | null;
  private readonly include: (index: number) => boolean;

  /** `include`: whether the entry at an index belongs in the table (e.g. users among principals). */
  constructor(include: (index: number) => boolean = () => true) {
    this.table = null;
    this.added = 0;
    this.last = null;
    this.include = include;
  }

  of(list: readonly T[]): IdTable {
    if (this.table === null || (this.added > 0 && list[this.added - 1] !== this.last)) {
      this.table = new IdTable();
      this.added = 0;
    }
    const table = this.table;
    for (let i = this.added; i < list.length; i++) {
      if (this.include(i)) table.add((list[i] as T).id, i);
    }
    this.added = list.length;
    this.last = list[list.length - 1] ?? null;
    return table;
  }
}
