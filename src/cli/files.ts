/**
 * The CLI's side of src/io/files.ts: inputs read as regular files within
 * their size limit and outputs written whole, each failure one line and
 * exit status 2.
 */
import { atomicWrite, checkWritable, FileError, MAX_SCRIPT_BYTES, readRegularFile } from '../io/files.js';
import { CliError } from './errors.js';

/** A script file's text (a regular file of at most MAX_SCRIPT_BYTES), or a CliError naming it. */
export function readScriptFile(file: string): string {
  try {
    return readRegularFile(file, MAX_SCRIPT_BYTES, 'script file').toString('utf8');
  } catch (e) {
    if (e instanceof FileError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** Refuses early (exit 2) an output path that exists when --force is not given, before any work is done. */
export function checkOutputPath(path: string, force: boolean | undefined): void {
  try {
    checkWritable(path, force === true);
  } catch (e) {
    if (e instanceof FileError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** Writes an output file whole (temporary file + rename); `force` replaces an existing one. A failure is exit 2 naming the file. */
export function writeOutputFile(path: string, data: string | Uint8Array, force: boolean | undefined): void {
  try {
    atomicWrite(path, data, { force: force === true });
  } catch (e) {
    if (e instanceof FileError) throw new CliError(e.message, 2);
    throw e;
  }
}
