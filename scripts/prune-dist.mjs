// After tsc: remove what dist/ still holds of sources that no longer exist
// (tsc never deletes its old outputs), so that a clone built before a file
// was moved or deleted does not run, pack or publish the stale module.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const OUTPUT = /\.(?:js|js\.map|d\.ts|d\.ts\.map)$/;

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (OUTPUT.test(entry.name)) {
      const stem = join(root, relative(dist, path)).replace(OUTPUT, '');
      if (!existsSync(`${stem}.ts`) && !existsSync(`${stem}.tsx`)) rmSync(path, { force: true });
    }
  }
}

if (existsSync(dist)) walk(dist);
