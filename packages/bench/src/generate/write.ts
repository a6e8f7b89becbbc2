/**
 * Worlds held in memory are written by the server's streaming writer (the one `palisade export`
 * uses), so a generated world and an exported one are the same kind of file. Generated worlds too
 * large to hold (10M records) stream from their lazy lists through `writeWorldStream`, which
 * writes the same format.
 */
export { type WorldFileFormat as WorldFormat, writeWorldFile as writeWorld } from '@palisade/server';
export { LazyList, type WorldEntries, writeWorldStream } from './stream.js';
