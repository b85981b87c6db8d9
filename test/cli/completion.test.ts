/**
 * `ksmctl completion bash|zsh|fish`: the scripts come from the commander
 * definitions. The bash one is sourced in a real bash and asked as bash
 * asks a completion function (COMP_WORDS split at bash's word breaks,
 * COMP_LINE, COMP_POINT); the zsh and fish ones are parsed by their shells
 * (`zsh -n`, `fish -n`) when installed, and fish's is asked too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ksmctl } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'ksmctl-completion-'));

function script(shell: string): string {
  const r = ksmctl(['completion', shell]);
  if (r.status !== 0) throw new Error(`completion ${shell}: ${r.status} ${r.stderr}`);
  const file = join(dir, `ksmctl.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

/** What the bash function puts in COMPREPLY for a line typed up to its end, with COMP_WORDS as bash splits it. */
function bashComplete(file: string, line: string): string[] {
  const words = line.split(/(?<=[:=])|(?=[:=])|\s+/).filter((w, i, a) => w !== '' || i === a.length - 1);
  if (/\s$/.test(line)) words.push('');
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const prog = `source '${file}'
COMP_WORDS=(${quoted}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
COMP_LINE='${line.replace(/'/g, `'\\''`)}'; COMP_POINT=\${#COMP_LINE}
_ksmctl
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', prog], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash: commands, subcommands, options, era ids after a colon, choices, builtins and files', (t) => {
  if (!has('bash')) return t.pass('bash is not installed');
  const f = script('bash');
  t.deepEqual(bashComplete(f, 'ksmctl wor'), ['workload', 'workloads']);
  t.deepEqual(bashComplete(f, 'ksmctl workload '), ['run', 'help']);
  // bash completes the part after the ':' (a word break): the ids' remainders.
  t.deepEqual(bashComplete(f, 'ksmctl workload run x.json --era v3:'), ['2.6.32', '3.9', '6.18']);
  t.deepEqual(bashComplete(f, 'ksmctl workload run x.json --era=v1:'), ['2008', '2009']);
  t.deepEqual(bashComplete(f, 'ksmctl compare --eras v2,v3:6'), ['6.18']);
  t.deepEqual(bashComplete(f, 'ksmctl workload run --abi '), ['2008', '2009']);
  t.deepEqual(bashComplete(f, 'ksmctl completion '), ['bash', 'zsh', 'fish']);
  t.deepEqual(bashComplete(f, 'ksmctl help est'), ['estimate']);
  t.true(bashComplete(f, 'ksmctl compare --ch').includes('--checksum'));
  t.deepEqual(bashComplete(f, 'ksmctl compare builtin:many'), ['many-sharers']);
  t.deepEqual(bashComplete(f, 'ksmctl run examples/scripts/ksmpa'), ['examples/scripts/ksmpages.ksm']);
  t.deepEqual(bashComplete(f, 'ksmctl workload run examples/workloads/two-g'), ['examples/workloads/two-guests.json']);
  // A number takes no candidates: no files offered after --passes.
  t.deepEqual(bashComplete(f, 'ksmctl compare builtin:guests --passes '), []);
});

test('zsh: the script parses', (t) => {
  if (!has('zsh')) return t.pass('zsh is not installed: not checked');
  const r = spawnSync('zsh', ['-n', script('zsh')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
});

test('fish: the script parses and completes', (t) => {
  if (!has('fish')) return t.pass('fish is not installed: not checked');
  const f = script('fish');
  const parse = spawnSync('fish', ['-n', f], { encoding: 'utf8' });
  t.is(parse.status, 0, parse.stderr);
  const ask = (line: string) => {
    const r = spawnSync('fish', ['--no-config', '-c', `source '${f}'; complete -C '${line}'`], { cwd: ROOT, encoding: 'utf8' });
    t.is(r.stderr, '');
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]);
  };
  t.deepEqual(ask('ksmctl wor'), ['workload', 'workloads']);
  t.deepEqual(ask('ksmctl workload run x.json --era v3:'), ['v3:2.6.32', 'v3:3.9', 'v3:6.18']);
  t.deepEqual(ask('ksmctl run examples/scripts/ksmpa'), ['examples/scripts/ksmpages.ksm']);
});

test('an unknown shell is refused in one line, exit 2', (t) => {
  const r = ksmctl(['completion', 'tcsh']);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: .*tcsh/);
});
