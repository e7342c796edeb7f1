/**
 * How many bytes of a file body move at a time: a read stream's chunk and a write stream's buffer.
 * Node's defaults (64 KiB reads, 16 KiB of write buffer) make a transfer wait for the disk after nearly
 * every chunk and cost tens of thousands of turns of the event loop per GiB; at 1 MiB the disk write of
 * one chunk overlaps the socket read and the hash of the next. Memory per transfer stays bounded: at
 * most one chunk read ahead and one chunk of buffer waiting for the disk.
 */
export const FILE_CHUNK_BYTES = 1 << 20;
