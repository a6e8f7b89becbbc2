import type { PrincipalIdx, RecordIdx } from '../ids.js';
import { TableIndex } from './table-index.js';
import type { Table } from './world-model.js';

/**
 * Every change to a table's records and shares goes through these, so the table's index (when it
 * has been built) never falls behind the columns.
 */

export function tableIndex(table: Table): TableIndex {
  table.index ??= new TableIndex(table.records, table.shares);
  return table.index;
}

export function addRecord(table: Table, id: string, owner: number, bu: number): RecordIdx {
  const row = table.records.add(id, owner as PrincipalIdx, bu as never);
  table.index?.rowAdded(row, owner, bu);
  return row;
}

export function removeRecord(table: Table, row: RecordIdx): void {
  table.index?.rowRemoved(row, table.records.ownerOf(row), table.records.buOf(row));
  table.records.remove(row);
}

/** Undoes `addRecord` of the table's last row, freeing its index (see `RecordStore.pop`). */
export function unaddRecord(table: Table, row: RecordIdx): void {
  table.index?.rowRemoved(row, table.records.ownerOf(row), table.records.buOf(row));
  table.records.pop(row);
}

export function reviveRecord(table: Table, row: RecordIdx, owner: number, bu: number): void {
  table.records.revive(row, owner, bu);
  table.index?.rowAdded(row, owner, bu);
}

export function setRecordOwner(table: Table, row: RecordIdx, owner: number, bu: number): void {
  const index = table.index;
  index?.rowRemoved(row, table.records.ownerOf(row), table.records.buOf(row));
  table.records.setOwner(row, owner, bu);
  index?.rowAdded(row, owner, bu);
}

/** Sets the rights of the share (record, principal) exactly; 0 removes it. Returns the rights before. */
export function setShare(table: Table, row: RecordIdx, principal: PrincipalIdx, rights: number): number {
  const before = table.shares.rightsOf(row, principal);
  if (before === rights) return before;
  table.shares.set(row, principal, rights);
  table.index?.shareChanged(row, principal, before, rights);
  return before;
}

/** The shares of a record as (principal, rights) pairs: a copy, safe to iterate while changing them. */
export function sharesOf(table: Table, row: RecordIdx): [PrincipalIdx, number][] {
  const list: [PrincipalIdx, number][] = [];
  table.shares.forEach(row, (principal, rights) => {
    list.push([principal, rights]);
  });
  return list;
}
