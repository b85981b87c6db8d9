/**
 * The CLI's side of src/io/files.ts: inputs read as regular files within
 * their size limit and outputs written whole, each failure one line and
 * exit status 2.
 */
import { atomicWrite, checkWritable, FileError, MAX_SCRIPT_BYTES, readRegularFile } from '../io/files.js';
import { CliError } from './errors.js';

/**
 * A script file's text (a regular file of at most MAX_SCRIPT_BYTES, text in
 * UTF-8), or a CliError naming it: a binary file (a NUL byte, bytes that
 * are not UTF-8: a compiled program given by mistake) is one line, not a
 * parse error that echoes its bytes to the terminal.
 */
export function readScriptFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, MAX_SCRIPT_BYTES, 'script file');
  } catch (e) {
    if (e instanceof FileError) throw new CliError(e.message, 2);
    throw e;
  }
  const nul = bytes.indexOf(0);
  const elf = bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  if (elf || nul !== -1) throw new CliError(`${file}: not a script but a binary file (${elf ? 'an ELF executable' : `a NUL byte at offset ${nul}`}): ksmctl run takes the text of a program`, 2);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`${file}: not a script: not text in UTF-8 (a binary file?)`, 2);
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
