import { NONE, type PrincipalIdx, type RecordIdx } from '../ids.js';
import { ensureInt32, ensureUint8, sharedInt32, sharedUint8 } from '../util/growable.js';
import { type RecordStore, ROW_STRIDE, RowField } from './records.js';

/**
 * Shares of one table: per record a singly linked list of (principal, rights) entries in pooled
 * typed arrays, so the check loop walks plain integers and a share can be added or removed in O(1)
 * plus the length of that record's list. Rights are a bitmask of `1 << Privilege`.
 * One entry per (record, principal): granting again ORs the rights (semantics §7.3).
 * A list's head sits in the record's own row (`RowField.shareHead`), so a check learns whether a
 * record has shares from the cache line it reads anyway.
 */
export class ShareStore {
  private readonly records: RecordStore;
  principal: Int32Array;
  rights: Uint8Array;
  next: Int32Array;
  private size: number;
  private free: number;
  /** Live entries. */
  count: number;

  constructor(records: RecordStore) {
    this.records = records;
    this.principal = sharedInt32(16);
    this.rights = sharedUint8(16);
    this.next = sharedInt32(16, NONE);
    this.size = 0;
    this.free = NONE;
    this.count = 0;
  }

  /** The first entry of `record`'s list, or NONE. */
  head(record: RecordIdx): number {
    return record < this.records.count ? (this.records.rows[record * ROW_STRIDE + RowField.shareHead] as number) : NONE;
  }

  private setHead(record: RecordIdx, entry: number): void {
    this.records.rows[record * ROW_STRIDE + RowField.shareHead] = entry;
  }

  /** The entry for (record, principal), or NONE. */
  find(record: RecordIdx, principal: PrincipalIdx): number {
    for (let e = this.head(record); e !== NONE; e = this.next[e] as number) {
      if (this.principal[e] === principal) return e;
    }
    return NONE;
  }

  /** ORs `rights` into the share of (record, principal), creating it if needed. */
  grant(record: RecordIdx, principal: PrincipalIdx, rights: number): void {
    const existing = this.find(record, principal);
    if (existing !== NONE) {
      this.rights[existing] = (this.rights[existing] as number) | rights;
      return;
    }
    let entry = this.free;
    if (entry !== NONE) {
      this.free = this.next[entry] as number;
    } else {
      entry = this.size++;
      this.principal = ensureInt32(this.principal, this.size);
      this.rights = ensureUint8(this.rights, this.size);
      this.next = ensureInt32(this.next, this.size);
    }
    this.principal[entry] = principal;
    this.rights[entry] = rights;
    this.next[entry] = this.head(record);
    this.setHead(record, entry);
    this.count++;
  }

  /** The rights of (record, principal); 0 when there is no share. */
  rightsOf(record: RecordIdx, principal: PrincipalIdx): number {
    const entry = this.find(record, principal);
    return entry === NONE ? 0 : (this.rights[entry] as number);
  }

  /** Sets the rights of (record, principal) exactly; 0 removes the share. */
  set(record: RecordIdx, principal: PrincipalIdx, rights: number): void {
    const entry = this.find(record, principal);
    if (entry !== NONE && rights !== 0) {
      this.rights[entry] = rights;
    } else if (entry === NONE && rights !== 0) {
      this.grant(record, principal, rights);
    } else if (entry !== NONE) {
      this.unlink(record, entry);
    }
  }

  private unlink(record: RecordIdx, entry: number): void {
    let previous = NONE;
    for (let e = this.head(record); e !== entry; e = this.next[e] as number) previous = e;
    if (previous === NONE) this.setHead(record, this.next[entry] as number);
    else this.next[previous] = this.next[entry] as number;
    this.next[entry] = this.free;
    this.rights[entry] = 0;
    this.free = entry;
    this.count--;
  }

  /** Calls `visit(principal, rights)` for each share of `record`. */
  forEach(record: RecordIdx, visit: (principal: PrincipalIdx, rights: number) => void): void {
    for (let e = this.head(record); e !== NONE; e = this.next[e] as number) {
      visit(this.principal[e] as PrincipalIdx, this.rights[e] as number);
    }
  }
}
