/** Runs scripts in-process and collects what a terminal would show (`2>&1`). */
import { readFileSync } from 'node:fs';
import { runScript, type ScriptRunOptions, type ScriptRunResult } from '../../src/script/run.js';

export interface Transcript extends ScriptRunResult {
  /** Trace, stdout and stderr in the order written, then the error if any. */
  text: string;
  stdout: string;
}

export function runText(file: string, source: string, opts: Omit<ScriptRunOptions, 'sink'> = {}): Transcript {
  let text = '';
  let stdout = '';
  const r = runScript(file, source, {
    trace: true,
    ...opts,
    sink: {
      trace: (l) => (text += `${l}\n`),
      stdout: (t) => {
        text += t;
        stdout += t;
      },
      stderr: (t) => (text += t),
    },
  });
  if (r.error !== undefined) text += `${r.error}\n`;
  return { ...r, text, stdout };
}

export function runFile(path: string, opts: Omit<ScriptRunOptions, 'sink'> = {}): Transcript {
  return runText(path, readFileSync(path, 'utf8'), opts);
}
