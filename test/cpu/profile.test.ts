/**
 * CPU profile files: the shipped default reads, a bad profile is one line
 * naming its path (in the library and through ksmctl), names resolve to the
 * user's directory before the shipped one.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zeroWork } from '../../src/engine/merge/stats.js';
import { predictNs } from '../../src/cpu/model.js';
import { COST_NAMES, loadProfile, parseProfile, ProfileError, profilePath, saveProfile, type CpuProfile } from '../../src/cpu/profile.js';
import { ksmctl, STACK } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-cpu-profile-'));

test('the shipped default profile reads, prices every cost and predicts a positive time for a pass of work', (t) => {
  const p = loadProfile('default', {});
  t.is(p.name, 'default');
  for (const k of COST_NAMES) t.true(p.costsNs[k] >= 0);
  t.true(p.fit.workloads.length >= 5);
  const work = zeroWork();
  work.pagesScanned = 1000;
  work.bytesHashed = 4096 * 1000;
  t.true(predictNs(p, { work, passes: 1, wakeups: 1 }) > 0);
});

const good = (): CpuProfile => structuredClone(loadProfile('default', {}));

const BAD: Array<[string, string | ((p: CpuProfile) => unknown), RegExp]> = [
  ['not JSON', '{"format": ', /not JSON/],
  ['an array', '[]', /not a JSON object/],
  ['another format', (p) => ({ ...p, format: 'x/2' }), /"format" is "x\/2"/],
  ['a negative cost', (p) => ({ ...p, costsNs: { ...p.costsNs, merges: -1 } }), /costsNs\.merges must be a number >= 0/],
  ['a missing cost', (p) => ({ ...p, costsNs: { ...p.costsNs, pass: undefined } }), /costsNs\.pass must be a number/],
  ['an unknown cost', (p) => ({ ...p, costsNs: { ...p.costsNs, tlbFlushes: 3 } }), /costsNs\.tlbFlushes is not a cost the model knows/],
  ['no machine', (p) => ({ ...p, machine: 'x' }), /"machine" must be/],
];

for (const [what, make, re] of BAD) {
  test(`a profile with ${what} is refused in one line naming its path`, (t) => {
    const path = join(dir, `${what.replace(/ /g, '-')}.json`);
    const text = typeof make === 'string' ? make : JSON.stringify(make(good()));
    const e = t.throws(() => parseProfile(text, path), { instanceOf: ProfileError });
    t.true(e!.message.startsWith(`${path}: not a CPU profile: `), e!.message);
    t.regex(e!.message, re);
    t.false(e!.message.includes('\n'));
  });
}

test('ksmctl calibrate --check with a bad profile: one line with the path, exit 2, nothing run', (t) => {
  const path = join(dir, 'broken.json');
  writeFileSync(path, JSON.stringify({ ...good(), costsNs: { ...good().costsNs, pagesScanned: 'fast' } }));
  const r = ksmctl(['calibrate', '--check', '--profile', path]);
  t.is(r.status, 2);
  t.is(r.stderr.trim(), `ksmctl: ${path}: not a CPU profile: costsNs.pagesScanned must be a number >= 0 (ns), not "fast"`);
  t.notRegex(r.stderr, STACK);
  const missing = ksmctl(['calibrate', '--check', '--profile', join(dir, 'none.json')]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /^ksmctl: .*none\.json: no such file or directory\n$/);
});

test("a name is the user's profile first, then the shipped one; an unknown name says how to make it", (t) => {
  const home = join(dir, 'config');
  const env = { XDG_CONFIG_HOME: home };
  t.true(profilePath('default', env).endsWith(join('profiles', 'default.json')));
  mkdirSync(join(home, 'ksmctl', 'profiles'), { recursive: true });
  saveProfile(join(home, 'ksmctl', 'profiles', 'default.json'), { ...good(), name: 'mine' });
  t.is(profilePath('default', env), join(home, 'ksmctl', 'profiles', 'default.json'));
  t.is(loadProfile('default', env).name, 'mine');
  t.throws(() => profilePath('nosuch', env), { instanceOf: ProfileError, message: /no CPU profile named nosuch .*ksmctl calibrate --profile nosuch/ });
  // Written whole, and never over an existing file without force.
  t.throws(() => saveProfile(join(home, 'ksmctl', 'profiles', 'default.json'), good()), { instanceOf: ProfileError, message: /exists: not replaced/ });
});
