/** docs/compare.md's example comparison is what its command prints (a reader can run it and get the same). */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ksmctl } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

/** The "One comparison" part of docs/compare.md: its command and the text block after it. */
function example(): { args: string[]; expected: string } {
  const doc = readFileSync(join(ROOT, 'docs', 'compare.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## One comparison'));
  const m = /(?:<!-- no-run: [^\n]* -->\n)?```sh\nnpx ksmctl (compare [^\n]+)\n```\n\n```text\n([\s\S]*?)\n```/.exec(section);
  if (m === null) throw new Error('docs/compare.md: no example command and output under "## One comparison"');
  return { args: m[1].split(/\s+/), expected: m[2] };
}

const trimLines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();

test("docs/compare.md's example comparison is produced by its command", (t) => {
  const { args, expected } = example();
  const r = ksmctl(args);
  t.is(r.status, 0, r.stderr);
  t.is(trimLines(r.stdout), trimLines(expected));
});
