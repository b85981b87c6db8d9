/**
 * Golden files: expected outputs kept in test/golden/. Set UPDATE_GOLDEN=1 to
 * write them from the current code (then review the diff by hand).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function golden(name: string, actual: unknown): unknown {
  const file = join(ROOT, 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    if (!process.env.UPDATE_GOLDEN) throw new Error(`golden file ${name} is missing (run with UPDATE_GOLDEN=1 to create it)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}
