/**
 * 80×24 as a user meets it: the real binary in a detached tmux session of
 * 80 columns and 24 rows. compare's output (four eras, and with --checksum)
 * keeps every line within 80 columns (tmux's joined lines, so a wrapped row
 * would show as a long one); the TUI shows every counter of its era, a
 * footer that is whole or points to `?`, and a scroll marker once a fifth
 * guest does not fit; NO_COLOR=1 leaves no SGR sequence (ESC[...m) on the
 * screen of either; Ctrl-C during compare leaves the cursor visible.
 * Skipped only when tmux is not installed (.ci/run installs it).
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { ERAS } from '../../src/eras/registry.js';
import { KSMCTL } from '../helpers/cli.js';

const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
/** A server of our own, so the test never touches anybody's tmux. */
const SOCKET = `ksmctl-80x24-${process.pid}`;
const SMALL = 'builtin:identical-guests:n=4,pages=64';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

/** A shell in an 80×24 window, with a known prompt, no CI variables (ink renders nothing live under CI) and `env`. */
function shell(name: string, env = ''): void {
  const base = `env -i PATH=${dirname(process.execPath)}:/usr/bin:/bin HOME=${process.env.HOME ?? '/tmp'} TERM=xterm-256color PS1='$ ' ${env}`;
  tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', `${base} bash --norc --noprofile`);
}

/** The screen; `all`: with the scrollback, wrapped lines joined; `escapes`: with the attributes as escape sequences. */
function screen(name: string, opts: { all?: boolean; escapes?: boolean } = {}): string {
  return tmux('capture-pane', '-p', '-t', name, ...(opts.all ? ['-J', '-S', '-'] : []), ...(opts.escapes ? ['-e'] : []));
}

async function waitFor(name: string, re: RegExp, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen(name);
    if (re.test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} on the screen:\n${s}`);
}

/** The counters every era shows (derived where the era had no such file), and 6.18's own counter files. */
const FIVE = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans'];
const counterNames = (era: string) => (era === 'v3:6.18' ? [...FIVE, 'general_profit', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups', 'pages_skipped', 'pages_scanned'] : FIVE);

const SGR = /\x1b\[[0-9;:]*m/;
const chars = (l: string) => [...l].length;

if (!HAS_TMUX) {
  test.skip('tmux is not installed: the 80×24 terminal tests are skipped (apt-get install tmux)', () => {});
} else {
  // A session that stays, so the server does not exit (and race the next test's new session) whenever a test's session ends.
  test.before(() => {
    tmux('new-session', '-d', '-s', 'keep', '-x', '80', '-y', '24', 'sleep 3600');
  });
  test.after.always(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  });

  for (const [name, extra] of [
    ['compare', ''],
    ['compare --checksum', ' --checksum lookup2,lookup3,xxhash'],
  ] as const) {
    test.serial(`ksmctl ${name.slice(8)} at 80×24: every line within 80 columns, every era shown`.replace('  ', ' '), async (t) => {
      const s = name.replace(/\W+/g, '-');
      shell(s);
      t.teardown(() => {
        spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
      });
      tmux('send-keys', '-t', s, `clear; ${process.execPath} ${KSMCTL} compare ${SMALL}${extra}; echo "ksmctl exited $?"`, 'Enter');
      await waitFor(s, /ksmctl exited \d+/);
      const out = screen(s, { all: true });
      t.regex(out, /ksmctl exited 0/);
      const body = out.slice(out.indexOf('identical-guests:'), out.indexOf('ksmctl exited'));
      t.regex(body, /pages saved per pass/);
      const long = body.split('\n').filter((l) => chars(l) > 80);
      t.deepEqual(long, [], 'no line wider than the terminal');
      for (const era of ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32']) t.regex(body, new RegExp(`^metric .*${era.replace(/\./g, '\\.')}`, 'm'), `${era} has a column`);
      t.is(tmux('display-message', '-p', '-t', s, '#{cursor_flag}').trim(), '1', 'the cursor is visible');
    });
  }

  test.serial('NO_COLOR=1: compare on a terminal writes no colour or attribute sequence', async (t) => {
    shell('nocolor-compare', 'NO_COLOR=1');
    t.teardown(() => {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'nocolor-compare']);
    });
    tmux('send-keys', '-t', 'nocolor-compare', `clear; ${process.execPath} ${KSMCTL} compare ${SMALL}; echo "ksmctl exited $?"`, 'Enter');
    await waitFor('nocolor-compare', /ksmctl exited 0/);
    const out = screen('nocolor-compare', { all: true, escapes: true });
    t.regex(out, /pages saved per pass/);
    t.notRegex(out, SGR);
    // And the same command with colour (FORCE_COLOR) does colour: the check above can fail.
    shell('color-compare', 'FORCE_COLOR=1');
    t.teardown(() => {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'color-compare']);
    });
    tmux('send-keys', '-t', 'color-compare', `clear; ${process.execPath} ${KSMCTL} compare ${SMALL}; echo "ksmctl exited $?"`, 'Enter');
    await waitFor('color-compare', /ksmctl exited 0/);
    t.regex(screen('color-compare', { all: true, escapes: true }), SGR);
  });

  test.serial('Ctrl-C during compare: the progress bars stop and the cursor is visible again', async (t) => {
    shell('interrupt');
    t.teardown(() => {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'interrupt']);
    });
    tmux('send-keys', '-t', 'interrupt', `${process.execPath} ${KSMCTL} compare builtin:identical-guests:n=8,pages=20000 --passes 40`, 'Enter');
    await waitFor('interrupt', /^v1:2008 +[░█]/m);
    t.is(tmux('display-message', '-p', '-t', 'interrupt', '#{cursor_flag}').trim(), '0', 'the bars hide the cursor while they run');
    tmux('send-keys', '-t', 'interrupt', 'C-c');
    await waitFor('interrupt', /^(\^C)?\S*.*\n\$ ?$/m, 20_000);
    t.is(tmux('display-message', '-p', '-t', 'interrupt', '#{cursor_flag}').trim(), '1', 'the cursor is back');
  });

  for (const era of ERAS) {
    test.serial(`the TUI under ${era.id} at 80×24: every counter, the footer whole or pointing to ?, a scroll marker with a fifth guest`, async (t) => {
      const s = `tui-${era.id.replace(/\W+/g, '-')}`;
      shell(s);
      t.teardown(() => {
        spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
      });
      tmux('send-keys', '-t', s, `${process.execPath} ${KSMCTL} tui --no-host --era ${era.id}; echo "ksmctl exited $?"`, 'Enter');
      let f = await waitFor(s, new RegExp(`ksmctl · ${era.label.replace(/\./g, '\\.')} · guests-live`));
      t.true(f.split('\n').every((l) => chars(l) <= 80));
      for (const c of counterNames(era.id)) t.regex(f, new RegExp(`│${c}\\*? +[\\d.]+[KMGB]? `), `${era.id}: ${c}`);
      const footer = f.trimEnd().split('\n').at(-1)!;
      t.regex(footer, /^ \? (help|all keys) {2}q quit {2}s start\/stop/, 'the footer starts with ?');
      t.notRegex(footer, /…/, 'no entry cut');
      t.notRegex(f, /Processes · \d+-\d+ of/, 'four guests fit');
      tmux('send-keys', '-t', s, 'g');
      f = await waitFor(s, /Processes · \d+-\d+ of 5 · ↑↓ select/);
      t.regex(f, /│[▲▼] /, 'a marker where guests are out of view');
      tmux('send-keys', '-t', s, 'q');
      await waitFor(s, /ksmctl exited 0/);
    });
  }

  test.serial('NO_COLOR=1: the TUI draws without a colour or attribute sequence; without it, in colour', async (t) => {
    for (const [s, env, coloured] of [
      ['tui-nocolor', 'NO_COLOR=1', false],
      ['tui-color', '', true],
    ] as const) {
      shell(s, env);
      t.teardown(() => {
        spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
      });
      tmux('send-keys', '-t', s, `${process.execPath} ${KSMCTL} tui --no-host; echo "ksmctl exited $?"`, 'Enter');
      await waitFor(s, /│pages_volatile\s+[1-9]/);
      const f = screen(s, { escapes: true });
      t.regex(f, /Counters · v3 2\.6\.32/);
      if (coloured) t.regex(f, SGR, env);
      else t.notRegex(f, SGR, env);
      tmux('send-keys', '-t', s, 'q');
      await waitFor(s, /ksmctl exited 0/);
    }
  });
}
