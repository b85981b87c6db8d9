/**
 * Raw memory images into a snapshot (`--raw FILE`): a guest's RAM file (a
 * memory-backend-file, a saved RAM image) taken as one process with one
 * private anonymous mapping, every page of it present.
 */
import { closeSync, fstatSync } from 'node:fs';
import { basename } from 'node:path';
import { captureSegment } from './file-source.js';
import { type ProcessRecord, SNAPSHOT_PAGE_SIZE } from './format.js';
import { CoreError, openInput } from './elf-core.js';
import type { SnapshotWriter } from './writer.js';

/** Writes the image as one process; a CoreError (naming the file) when it cannot be read or is empty. */
export async function captureRaw(path: string, writer: SnapshotWriter, capture: number, onBytes?: (n: number) => void): Promise<ProcessRecord> {
  const fd = openInput(path);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) throw new CoreError(path, 'not a regular file');
    if (st.size === 0) throw new CoreError(path, 'empty file: no memory to read');
    const pages = Math.ceil(st.size / SNAPSHOT_PAGE_SIZE);
    const seq = writer.nextSeq;
    await captureSegment(fd, { offset: 0, bytes: st.size, pages, file: false }, writer, seq, 0, onBytes);
    const rec: ProcessRecord = {
      seq,
      capture,
      source: 'raw',
      pid: 0,
      comm: basename(path),
      cmdline: [],
      file: path,
      time: new Date().toISOString(),
      mappings: [{ start: '0x0', end: `0x${(pages * SNAPSHOT_PAGE_SIZE).toString(16)}`, perms: 'rw-p', offset: '0x0', dev: '00:00', inode: 0, path: null, kind: 'anon', vmFlags: null }],
      problems: [],
    };
    writer.writeProcess(rec);
    return rec;
  } finally {
    closeSync(fd);
  }
}
