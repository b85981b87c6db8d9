/**
 * The permission example as scripts (examples/permissions/*.ksm), and
 * `ksmctl run --user`: the /dev/ksm era's flaw from seed 002's review thread
 * beside the 2.6.32 answer, each run to its end with its expects.
 */
import test from 'ava';
import { join } from 'node:path';
import { ROOT } from '../helpers/golden.js';
import { ksmctl, STACK } from '../helpers/cli.js';
import { runFile } from '../helpers/script.js';

const EX = join(ROOT, 'examples', 'permissions');

test('dev-ksm-flaw.ksm (002): a user who may register memory stops kksmd for everyone; the new pages never merge', (t) => {
  const r = runFile(join(EX, 'dev-ksm-flaw.ksm'));
  t.log(r.stdout);
  t.is(r.status, 0, r.text);
  t.regex(r.text, /\[pid \d+\] setuid\(1002\) = 0/);
  t.regex(r.text, /ioctl\(\d+, KSM_START_STOP_KTHREAD, \{sleep=0, pages_to_scan=0, flags=0, pad=0, reserved_bits=0\}\) = 0/);
  t.regex(r.stdout, /before: 64 of 64 pages on a KSM page/);
  t.regex(r.stdout, /flags 0, pages_to_scan 0, sleep_time 0/);
  t.regex(r.stdout, /after: 0 of 64 new pages/);
});

test('sysfs-run-v3.ksm (003): the same user gets EACCES from run, ksmd goes on; root delegates with chmod', (t) => {
  const r = runFile(join(EX, 'sysfs-run-v3.ksm'));
  t.log(r.stdout);
  t.is(r.status, 0, r.text);
  t.regex(r.text, /write\("\/sys\/kernel\/mm\/ksm\/run", "0\\n", 2\) = -1 EACCES/);
  t.regex(r.text, /chmod\("\/sys\/kernel\/mm\/ksm\/run", 0666\) = 0/);
  t.regex(r.stdout, /after: 64 of 64 new pages on a KSM page \(ksmd still runs\)/);
  t.regex(r.stdout, /^0$/m, 'after the chmod the user could stop it');
});

test('ksmctl run --user 1000: the program meets the era\'s checks (v1: EACCES at open; v3: EACCES from the knobs)', (t) => {
  const v1 = ksmctl(['run', 'examples/scripts/qemu-2009.ksm', '--user', '1000', '--trace']);
  t.regex(v1.stderr, /open\("\/dev\/ksm", O_RDWR\|O_TRUNC\) = -1 EACCES/);
  t.regex(v1.stdout, /ksm_register_memory failed/);
  t.not(v1.status, 0);
  t.notRegex(v1.stderr, STACK);
  const v3 = ksmctl(['run', 'examples/scripts/mergeable-v3.ksm', '--user', '1000']);
  t.is(v3.status, 1, 'its expect of EINVAL from `echo 3 > run` meets EACCES');
  t.regex(v3.stderr, /expect failed: errno == EINVAL \(left: 13, right: 22\)/);
  const bad = ksmctl(['run', 'examples/scripts/mergeable-v3.ksm', '--user', '-1']);
  t.is(bad.status, 2);
  t.notRegex(bad.stderr, STACK);
});
