#!/usr/bin/env node
/**
 * `npm start`: runs ksmctl from dist/, building it first only when it is
 * missing or older than what tsc compiles (src/, bench/, examples/, tsconfig.json),
 * so a second start does not wait for tsc. Arguments pass through:
 * `npm start -- compare builtin:identical-guests`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The file that stands for the build: tsc writes it on every build. */
export const ENTRY = join('dist', 'src', 'cli', 'ksmctl.js');
/** What tsconfig.json compiles (its "include"), and the config itself. */
const INPUTS = [['src', () => true], ['bench', (f) => /\.tsx?$/.test(f)], ['examples', (f) => /\.tsx?$/.test(f)]];

/** The first input under dir newer than `since` (ms), or null. */
function newer(dir, keep, since) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const found = newer(p, keep, since);
      if (found !== null) return found;
    } else if (e.isFile() && keep(e.name) && statSync(p).mtimeMs > since) return p;
  }
  return null;
}

/** Why `root` needs a build (a sentence), or null when dist/ is newer than every input. */
export function needsBuild(root = ROOT) {
  let built;
  try {
    built = statSync(join(root, ENTRY)).mtimeMs;
  } catch {
    return `${ENTRY} is missing`;
  }
  try {
    if (statSync(join(root, 'tsconfig.json')).mtimeMs > built) return `tsconfig.json is newer than ${ENTRY}`;
  } catch {
    // No tsconfig.json: nothing to compare.
  }
  for (const [dir, keep] of INPUTS) {
    const found = newer(join(root, dir), keep, built);
    if (found !== null) return `${found.slice(root.length + 1)} is newer than ${ENTRY}`;
  }
  return null;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const why = needsBuild();
  if (why !== null) {
    process.stderr.write(`npm start: building with tsc (${why})\n`);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
    if (r.status !== 0) {
      process.stderr.write('npm start: the build failed\n');
      process.exit(r.status ?? 1);
    }
  }
  // In this process: ksmctl reads process.argv past this script, as it does past its own file.
  await import(pathToFileURL(join(ROOT, ENTRY)).href);
}
