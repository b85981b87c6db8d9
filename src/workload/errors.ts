/**
 * Errors of workload files (docs/workload-format.md).
 *
 * The message is always one line, in one of two forms:
 *
 *   <file>: <place>: <what>                 a file that does not follow the schema
 *   <file>:<line>:<col>: invalid JSON: ...  a file that is not JSON (line, col from 1)
 *   <file>: cannot read: <reason>
 *
 * <place> is a path into the document in the style of the Python reference
 * (shared/tools/kernel-oracle/workload.py): `top level`, `hashTables`,
 * `processes.guest-a[0].runs[1].content`, `steps[3] (write)`, ...
 * Without a file name (text parsed from elsewhere) the `<file>: ` prefix is
 * left out, and invalid JSON is reported as `<input>:<line>:<col>: ...`.
 */

export interface WorkloadErrorInfo {
  /** The file (or whatever source name the caller gave), if known. */
  file?: string;
  /** Where in the document: `steps[2] (scan)`, `processes.a[0].content`, ... */
  place?: string;
  /** Line and column (from 1, columns in characters) of a JSON syntax error. */
  line?: number;
  column?: number;
  /** What is wrong, without the file and place. */
  detail: string;
  /** The kind of failure. */
  kind: 'schema' | 'json' | 'read';
}

/** A workload file that cannot be read, is not JSON, or does not follow the format: its message is one line naming the file and the place (`file: steps[3] (write): ...`, or `file:line:col: invalid JSON: ...`). */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
  readonly file: string | undefined;
  readonly place: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly detail: string;
  readonly kind: 'schema' | 'json' | 'read';

  constructor(info: WorkloadErrorInfo) {
    super(formatMessage(info));
    this.file = info.file;
    this.place = info.place;
    this.line = info.line;
    this.column = info.column;
    this.detail = info.detail;
    this.kind = info.kind;
  }

  /** The same error, naming the file. */
  withFile(file: string | undefined): WorkloadError {
    if (file === undefined || this.file !== undefined) return this;
    return new WorkloadError({ ...this.info(), file });
  }

  info(): WorkloadErrorInfo {
    const info: WorkloadErrorInfo = { detail: this.detail, kind: this.kind };
    if (this.file !== undefined) info.file = this.file;
    if (this.place !== undefined) info.place = this.place;
    if (this.line !== undefined) info.line = this.line;
    if (this.column !== undefined) info.column = this.column;
    return info;
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

function formatMessage(info: WorkloadErrorInfo): string {
  const detail = oneLine(info.detail);
  if (info.kind === 'json') {
    const file = info.file ?? '<input>';
    const pos = info.line !== undefined ? `:${info.line}:${info.column ?? 1}` : '';
    return oneLine(`${file}${pos}`) + `: invalid JSON: ${detail}`;
  }
  const parts: string[] = [];
  if (info.file !== undefined) parts.push(oneLine(info.file));
  if (info.kind === 'read') parts.push('cannot read');
  if (info.place !== undefined) parts.push(oneLine(info.place));
  parts.push(detail);
  return parts.join(': ');
}
