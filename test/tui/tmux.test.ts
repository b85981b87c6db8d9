/**
 * The real binary in a real terminal: ksmctl runs in a detached tmux
 * session at 80×24; keys go in with send-keys and the screen comes back
 * with capture-pane. Skipped only when tmux is not installed (.ci/run
 * installs it). The default era, and Linux 6.18 with its own files.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { KSMCTL } from '../helpers/cli.js';

const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
/** A server of our own, so the test never touches anybody's tmux. */
const SOCKET = `ksmctl-e2e-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const screen = (session = 'tui') => tmux('capture-pane', '-p', '-t', session);

/** Polls the screen of a tmux session until `re` matches it; the screen, or a failure naming what was on it. */
async function waitFor(re: RegExp, session = 'tui', ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen(session);
    if (re.test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} on the screen:\n${s}`);
}

function counter(s: string, name: string): number {
  const m = new RegExp(`│${name}\\s+(\\d+) `).exec(s);
  return m ? Number(m[1]) : Number.NaN;
}

if (!HAS_TMUX) {
  test.skip('tmux is not installed: the end-to-end terminal test is skipped (apt-get install tmux)', () => {});
} else {
  test.after.always(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  });

  test.serial('ksmctl in an 80×24 terminal: opens, pages_to_scan changes through sysfs, counters move, q restores the terminal', async (t) => {
    // A plain shell with a known prompt and no CI variables (ink renders nothing live under CI).
    const env = `env -i PATH=${dirname(process.execPath)}:/usr/bin:/bin HOME=${process.env.HOME ?? '/tmp'} TERM=xterm-256color PS1='$ '`;
    tmux('new-session', '-d', '-s', 'tui', '-x', '80', '-y', '24', `${env} bash --norc --noprofile`);
    tmux('send-keys', '-t', 'tui', `${process.execPath} ${KSMCTL}; echo "ksmctl exited $?"`, 'Enter');

    let s = await waitFor(/ksmctl · v3 2\.6\.32 · guests-live/);
    t.is(tmux('display-message', '-p', '-t', 'tui', '#{alternate_on}').trim(), '1', 'the TUI runs on the alternate screen');
    t.true(s.split('\n').every((l) => l.length <= 80));
    t.regex(s, /Counters · v3 2\.6\.32/);
    t.regex(s, /Processes · 4 live/);
    t.regex(s, /Memory map · guest-a/);

    s = await waitFor(/│pages_volatile\s+[1-9]/);
    tmux('send-keys', '-t', 'tui', '+');
    s = await waitFor(/│echo 200 > \/sys\/kernel\/mm\/ksm\/pages_to_scan\s+│/);
    t.regex(s, /ksmd sleeping · 200 pages every 20 ms/);

    const before = counter(s, 'pages_sharing');
    s = await waitFor(/│pages_sharing\s+\d+ /);
    for (const end = Date.now() + 20_000; counter(s, 'pages_sharing') === before && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 200));
      s = screen();
    }
    t.not(counter(s, 'pages_sharing'), before, 'the counters move as virtual time runs');
    t.true(counter(s, 'full_scans') >= 1);

    tmux('send-keys', '-t', 'tui', 'q');
    s = await waitFor(/ksmctl exited 0/);
    t.is(tmux('display-message', '-p', '-t', 'tui', '#{alternate_on}').trim(), '0', 'the alternate screen is left');
    t.is(tmux('display-message', '-p', '-t', 'tui', '#{cursor_flag}').trim(), '1', 'the cursor is visible again');
    t.regex(s, /^\$ .*ksmctl\.js; echo "ksmctl exited \$\?"$/m, 'the shell\'s screen is back as it was');
    t.regex(s, /^ksmctl exited 0\n\$ ?$/m, 'a shell prompt follows');
    t.notRegex(s, /Counters|pages_sharing/, 'nothing of the TUI is left on the screen');
  });

  test.serial('ksmctl tui --era v3:6.18 in an 80×24 terminal: general_profit on screen, z writes use_zero_pages through sysfs', async (t) => {
    const env = `env -i PATH=${dirname(process.execPath)}:/usr/bin:/bin HOME=${process.env.HOME ?? '/tmp'} TERM=xterm-256color PS1='$ '`;
    tmux('new-session', '-d', '-s', 'tui618', '-x', '80', '-y', '24', `${env} bash --norc --noprofile`);
    t.teardown(() => {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'tui618']);
    });
    const waitFor618 = (re: RegExp) => waitFor(re, 'tui618');
    tmux('send-keys', '-t', 'tui618', `${process.execPath} ${KSMCTL} tui --no-host --era v3:6.18; echo "ksmctl exited $?"`, 'Enter');

    let s = await waitFor618(/ksmctl · v3 6\.18 · guests-live/);
    t.true(s.split('\n').every((l) => l.length <= 80));
    t.regex(s, /Counters · v3 6\.18/);
    t.regex(s, /│general_profit\s+\S+ /);
    t.regex(s, /│echo 1 > \/sys\/kernel\/mm\/ksm\/run\s+│|MADV_MERGEABLE\) = 0/);

    tmux('send-keys', '-t', 'tui618', 'z');
    s = await waitFor618(/│echo 1 > \/sys\/kernel\/mm\/ksm\/use_zero_pages\s+│/);
    // Virtual time runs: ksmd merges, and the profit the kernel reports grows past zero.
    s = await waitFor618(/│general_profit\s+[1-9][\d.]*[KMG]? /);
    t.regex(s, /│ksm_stat profit /);

    tmux('send-keys', '-t', 'tui618', 'q');
    s = await waitFor618(/ksmctl exited 0/);
    t.is(tmux('display-message', '-p', '-t', 'tui618', '#{alternate_on}').trim(), '0', 'the alternate screen is left');
  });
}
