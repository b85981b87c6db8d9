/** The README's key table lists every key of the TUI's key table. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TABLE, showKey } from '../../src/tui/keys.js';
import { ROOT } from '../helpers/golden.js';

test('every key binding appears in the README', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## The TUI');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  for (const b of KEY_TABLE) for (const k of b.keys) t.true(section.includes(`\`${showKey(k)}\``), `${b.command}: ${k}`);
});
