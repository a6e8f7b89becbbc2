/**
 * Worlds are written by the server's streaming writer (the one `palisade export` uses), so a
 * generated world and an exported one are the same kind of file.
 */
export { type WorldFileFormat as WorldFormat, writeWorldFile as writeWorld } from '@palisade/server';
