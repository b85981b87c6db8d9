/**
 * The shell blocks of README.md and docs/*.md, as test/docs/commands.test.ts
 * runs them. The convention, for whoever writes a page:
 *
 * - Every ```sh block runs, line by line, in the order written, from the
 *   repository's root (a scratch copy of it: what a block writes stays out of
 *   the clone), and each line must exit 0. A line whose comment says
 *   `(exit N)` must exit N instead.
 * - `<!-- no-run: REASON -->` on the line before the fence keeps a block from
 *   running: interactive (the TUI), this machine's KSM, minutes of work.
 *   The reason is required; keep such blocks few.
 * - `<!-- slow -->` before the fence: the block runs only when
 *   KSMCTL_DOCS_SLOW=1 is set.
 * - No placeholders in a block that runs: no `FILE`-style capitals, `[--opt]`,
 *   `<arg>` or `...`; paths into the repository must exist.
 * - Other fences (```text, ```json, ```ts) are not run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DocLine {
  /** The command as the shell gets it (continuation lines joined). */
  command: string;
  /** Its 1-based line in the file. */
  line: number;
  /** The exit status it must give. */
  exit: number;
}

export interface DocBlock {
  file: string;
  /** The line of the opening fence. */
  line: number;
  run: 'yes' | 'slow' | 'no';
  /** Why it does not run (no-run blocks). */
  reason?: string;
  lines: DocLine[];
}

const FENCE = /^```(\w*)\s*$/;
const NO_RUN = /^<!--\s*no-run:\s*(.*?)\s*-->\s*$/;
const SLOW = /^<!--\s*slow\s*-->\s*$/;
const EXIT = /\(exit (\d+)\)/;

/** The shell blocks of one Markdown text. */
export function shellBlocks(file: string, text: string): DocBlock[] {
  const src = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < src.length; i++) {
    const open = FENCE.exec(src[i]);
    if (open === null) continue;
    let end = i + 1;
    while (end < src.length && !/^```\s*$/.test(src[end])) end++;
    if (open[1] === 'sh') {
      const before = i > 0 ? src[i - 1] : '';
      const noRun = NO_RUN.exec(before);
      const block: DocBlock = { file, line: i + 1, run: noRun ? 'no' : SLOW.test(before) ? 'slow' : 'yes', lines: [] };
      if (noRun) block.reason = noRun[1];
      for (let j = i + 1; j < end; j++) {
        const start = j;
        let command = src[j];
        while (command.endsWith('\\') && j + 1 < end) command = `${command.slice(0, -1)} ${src[++j].trim()}`;
        if (command.trim() === '' || command.trim().startsWith('#')) continue;
        const exit = EXIT.exec(comment(command));
        block.lines.push({ command: command.trim(), line: start + 1, exit: exit ? Number(exit[1]) : 0 });
      }
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

/** The part of a command line after its `#` comment (outside quotes), or ''. */
function comment(command: string): string {
  let quote = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(command[i - 1]))) return command.slice(i);
  }
  return '';
}

/** The command without its comment. */
export function code(command: string): string {
  const c = comment(command);
  return (c ? command.slice(0, command.length - c.length) : command).trim();
}

/** What makes a line a placeholder rather than a command, or null. */
export function placeholder(command: string): string | null {
  const words = code(command).split(/\s+/);
  for (const w of words) {
    if (/^[A-Z][A-Z0-9_]+$/.test(w)) return `${w} is a placeholder`;
    if (w.includes('...')) return `${w} is a placeholder`;
    if (/^\[.*\]?$/.test(w) || /^<[a-z]/.test(w)) return `${w} is an optional or placeholder argument`;
  }
  return null;
}

/** README.md and the pages of docs/ (not docs/api/, which typedoc writes). */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f));
  return ['README.md', ...docs];
}

export function allShellBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((f) => shellBlocks(f, readFileSync(join(root, f), 'utf8')));
}
