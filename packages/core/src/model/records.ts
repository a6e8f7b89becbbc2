import { type BuIdx, NONE, type PrincipalIdx, type RecordIdx } from '../ids.js';
import { ensureInt32, ensureUint8, sharedInt32, sharedUint8 } from '../util/growable.js';

/**
 * One table's rows as columns. Hot loops read `owner` and `bu` directly; a deleted row keeps its
 * index (so record indexes stay stable) with `owner` and `bu` set to NONE and its id unmapped.
 */
export class RecordStore {
  /** External id per row. */
  ids: string[];
  readonly index: Map<string, RecordIdx>;
  /** Owner principal per row (NONE on organization-owned tables and for deleted rows). */
  owner: Int32Array;
  /** Owning business unit per row (NONE on organization-owned tables and for deleted rows). */
  bu: Int32Array;
  /** Rows ever created, deleted ones included: the bound for row indexes. */
  count: number;
  /** 1 for a live row. Organization-owned rows have no owner, so liveness needs its own column. */
  live: Uint8Array;

  constructor(capacity: number) {
    this.ids = [];
    this.index = new Map();
    this.owner = sharedInt32(capacity, NONE);
    this.bu = sharedInt32(capacity, NONE);
    this.live = sharedUint8(capacity);
    this.count = 0;
  }

  add(id: string, owner: PrincipalIdx | typeof NONE, bu: BuIdx | typeof NONE): RecordIdx {
    const row = this.count as RecordIdx;
    this.owner = ensureInt32(this.owner, row + 1);
    this.bu = ensureInt32(this.bu, row + 1);
    this.live = ensureUint8(this.live, row + 1);
    this.owner[row] = owner;
    this.bu[row] = bu;
    this.live[row] = 1;
    this.ids.push(id);
    this.index.set(id, row);
    this.count = row + 1;
    return row;
  }

  /** Marks a row deleted: its index is never reused, so indexes held elsewhere stay unambiguous. */
  remove(row: RecordIdx): void {
    this.index.delete(this.ids[row] as string);
    this.live[row] = 0;
    this.owner[row] = NONE;
    this.bu[row] = NONE;
  }

  /** Brings a removed row back exactly (rollback of a delete). */
  revive(row: RecordIdx, owner: number, bu: number): void {
    this.index.set(this.ids[row] as string, row);
    this.live[row] = 1;
    this.owner[row] = owner;
    this.bu[row] = bu;
  }

  has(row: number): boolean {
    return row >= 0 && row < this.count && this.live[row] === 1;
  }
}
