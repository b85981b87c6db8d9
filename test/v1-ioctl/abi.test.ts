/**
 * The two ABIs of /dev/ksm: every request number and every struct size and
 * offset, pinned against the values of spec/v1-ioctl.md §2-3 (computed
 * there by compiling the seeds' headers with the x86 _IO/_IOW macros).
 */
import test from 'ava';
import { type StructClass, decodeStruct, encodeStruct } from '../../src/kernel/cstruct.js';
import { _IO, _IOC, _IOC_DIR, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_TYPE, _IOC_WRITE, _IOR, _IOW, _IOWR, formatIoc } from '../../src/kernel/ioctl.js';
import { requestTable } from '../../src/v1-ioctl/device.js';
import * as h2008 from '../../src/v1-ioctl/linux-ksm-2008.js';
import * as h2009 from '../../src/v1-ioctl/linux-ksm-2009.js';
import { KSM_MINOR } from '../../src/v1-ioctl/constants.js';
import { V1_SUPPORT } from '../../src/v1-ioctl/support.js';

const REQUESTS: Array<[abi: string, name: string, value: number, hex: number, decimal: number]> = [
  ['2008', 'KSM_GET_API_VERSION', h2008.KSM_GET_API_VERSION, 0x0000ab00, 43776],
  ['2008', 'KSM_CREATE_SHARED_MEMORY_AREA', h2008.KSM_CREATE_SHARED_MEMORY_AREA, 0x0000ab01, 43777],
  ['2008', 'KSM_CREATE_SCAN', h2008.KSM_CREATE_SCAN, 0x0000ab02, 43778],
  ['2008', 'KSM_START_STOP_KTHREAD', h2008.KSM_START_STOP_KTHREAD, 0x4010ab03, 1074834179],
  ['2008', 'KSM_GET_INFO_KTHREAD', h2008.KSM_GET_INFO_KTHREAD, 0x4010ab04, 1074834180],
  ['2008', 'KSM_REGISTER_MEMORY_REGION', h2008.KSM_REGISTER_MEMORY_REGION, 0x4010ab20, 1074834208],
  ['2008', 'KSM_REMOVE_MEMORY_REGION', h2008.KSM_REMOVE_MEMORY_REGION, 0x0000ab21, 43809],
  ['2008', 'KSM_SCAN', h2008.KSM_SCAN, 0x400cab40, 1074572096],
  ['2009', 'KSM_GET_API_VERSION', h2009.KSM_GET_API_VERSION, 0x0000ab00, 43776],
  ['2009', 'KSM_CREATE_SHARED_MEMORY_AREA', h2009.KSM_CREATE_SHARED_MEMORY_AREA, 0x0000ab01, 43777],
  ['2009', 'KSM_START_STOP_KTHREAD', h2009.KSM_START_STOP_KTHREAD, 0x4018ab02, 1075358466],
  ['2009', 'KSM_GET_INFO_KTHREAD', h2009.KSM_GET_INFO_KTHREAD, 0x4018ab03, 1075358467],
  ['2009', 'KSM_REGISTER_MEMORY_REGION', h2009.KSM_REGISTER_MEMORY_REGION, 0x4018ab20, 1075358496],
  ['2009', 'KSM_REMOVE_MEMORY_REGION', h2009.KSM_REMOVE_MEMORY_REGION, 0x0000ab21, 43809],
];

for (const [abi, name, value, hex, decimal] of REQUESTS) {
  test(`${abi} ${name} is 0x${hex.toString(16).padStart(8, '0')} (${decimal})`, (t) => {
    t.is(value, hex);
    t.is(value, decimal);
  });
}

test('each header exports exactly the requests of the table, and nothing else', (t) => {
  t.deepEqual(Object.keys(h2008.REQUESTS_2008).sort(), REQUESTS.filter((r) => r[0] === '2008').map((r) => r[1]).sort());
  t.deepEqual(Object.keys(h2009.REQUESTS_2009).sort(), REQUESTS.filter((r) => r[0] === '2009').map((r) => r[1]).sort());
});

test('no number means one thing in one header and another in the other; only the three _IO requests are shared', (t) => {
  const table = requestTable(); // throws on a conflict
  const shared = [...table].filter(([, i]) => i.abi === 'both').map(([, i]) => i.name).sort();
  t.deepEqual(shared, ['KSM_CREATE_SHARED_MEMORY_AREA', 'KSM_GET_API_VERSION', 'KSM_REMOVE_MEMORY_REGION']);
  t.is(table.size, 11);
  // 0xAB02 is KSM_CREATE_SCAN in 2008 and means nothing in 2009.
  t.is(table.get(0xab02)?.abi, '2008');
});

test('the request number carries the size of the struct it names', (t) => {
  t.is(_IOC_SIZE(h2008.KSM_REGISTER_MEMORY_REGION), 16);
  t.is(_IOC_SIZE(h2009.KSM_REGISTER_MEMORY_REGION), 24);
  t.is(_IOC_SIZE(h2008.KSM_SCAN), 12);
  for (const r of [h2008.KSM_START_STOP_KTHREAD, h2008.KSM_GET_INFO_KTHREAD]) t.is(_IOC_SIZE(r), 16);
  for (const r of [h2009.KSM_START_STOP_KTHREAD, h2009.KSM_GET_INFO_KTHREAD]) t.is(_IOC_SIZE(r), 24);
  // GET_INFO is declared _IOW although the kernel writes the struct: a label only.
  t.is(_IOC_DIR(h2008.KSM_GET_INFO_KTHREAD), _IOC_WRITE);
  t.is(_IOC_DIR(h2009.KSM_GET_INFO_KTHREAD), _IOC_WRITE);
  for (const r of REQUESTS) t.is(_IOC_TYPE(r[2]), 0xab);
});

test('the _IOC helpers mirror the C macros', (t) => {
  t.is(_IO(0xab, 0x21), 0xab21);
  t.is(_IOW(0xab, 0x20, 24), 0x4018ab20);
  t.is(_IOR(0xab, 0x20, 24), 0x8018ab20);
  t.is(_IOWR(0xab, 0x20, 24), 0xc018ab20);
  t.is(_IOC(_IOC_READ | _IOC_WRITE, 0xae, 0x01, 0), 0xc000ae01);
  t.is(_IOW(0xab, 0x20, h2008.ksm_memory_region), 0x4010ab20); // sizeof taken from the struct class
  t.is(_IOC_NR(h2008.KSM_SCAN), 0x40);
  t.is(formatIoc(0x4018ab20), '_IOC(_IOC_WRITE, 0xab, 0x20, 0x18)');
  t.throws(() => _IOW(0xab, 0x20, 1 << 14), { instanceOf: RangeError });
  t.throws(() => _IO(0x100, 0), { instanceOf: RangeError });
});

const STRUCTS: Array<[abi: string, cls: StructClass, size: number, fields: Array<[string, number, number]>]> = [
  ['2008', h2008.ksm_memory_region, 16, [['npages', 0, 4], ['pad', 4, 4], ['addr', 8, 8]]],
  ['2008', h2008.ksm_user_scan, 12, [['pages_to_scan', 0, 4], ['max_pages_to_merge', 4, 4], ['flags', 8, 4]]],
  ['2008', h2008.ksm_kthread_info, 16, [['sleep', 0, 4], ['pages_to_scan', 4, 4], ['max_pages_to_merge', 8, 4], ['flags', 12, 4]]],
  ['2009', h2009.ksm_memory_region, 24, [['npages', 0, 4], ['pad', 4, 4], ['addr', 8, 8], ['reserved_bits', 16, 8]]],
  ['2009', h2009.ksm_kthread_info, 24, [['sleep', 0, 4], ['pages_to_scan', 4, 4], ['flags', 8, 4], ['pad', 12, 4], ['reserved_bits', 16, 8]]],
];

for (const [abi, cls, size, fields] of STRUCTS) {
  test(`${abi} ${cls.layout.name} is ${size} bytes: ${fields.map(([n, o]) => `${n}@${o}`).join(', ')}`, (t) => {
    t.is(cls.layout.size, size);
    t.is(cls.layout.revision, abi);
    t.deepEqual(cls.layout.fields.map((f) => [f.name, f.offset, f.size]), fields);
    t.is(new cls().encode().length, size);
  });
}

test('structs encode little-endian at their offsets and decode back', (t) => {
  const r = new h2009.ksm_memory_region({ npages: 0x01020304, pad: 5, addr: 0x1122334455667788n, reserved_bits: 0xffffffffffffffffn });
  const b = r.encode();
  t.deepEqual([...b.subarray(0, 8)], [4, 3, 2, 1, 5, 0, 0, 0]);
  t.deepEqual([...b.subarray(8, 16)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  t.deepEqual([...b.subarray(16)], [255, 255, 255, 255, 255, 255, 255, 255]);
  t.deepEqual(new h2009.ksm_memory_region().decodeFrom(b).values(), r.values());
  t.deepEqual(decodeStruct(h2009.ksm_memory_region.layout, encodeStruct(h2009.ksm_memory_region.layout, { npages: 7 })), { npages: 7, pad: 0, addr: 0n, reserved_bits: 0n });
});

test('a struct is zero-initialised, and assignments truncate as C does', (t) => {
  t.deepEqual(new h2008.ksm_kthread_info().values(), { sleep: 0, pages_to_scan: 0, max_pages_to_merge: 0, flags: 0 });
  const s = new h2008.ksm_user_scan({ pages_to_scan: -1, max_pages_to_merge: 2 ** 32 + 3 });
  t.is(s.pages_to_scan, 0xffffffff);
  t.is(s.max_pages_to_merge, 3);
  t.is(new h2008.ksm_memory_region({ addr: -1 }).addr, 0xffffffffffffffffn);
});

test('both headers say KSM_API_VERSION 1, ksm_control_flags_run 1 and KSMIO 0xAB; the device is minor 233', (t) => {
  t.is(h2008.KSM_API_VERSION, 1);
  t.is(h2009.KSM_API_VERSION, 1);
  t.is(h2008.ksm_control_flags_run, 1);
  t.is(h2009.ksm_control_flags_run, 1);
  t.is(h2008.KSMIO, 0xab);
  t.is(h2009.KSMIO, 0xab);
  t.is(KSM_MINOR, 233);
});

test('the support table lists every request of both headers', (t) => {
  const listed = new Set(V1_SUPPORT.filter((r) => r.request !== undefined).map((r) => `${r.abi === 'both' ? '2008' : r.abi}:${r.request}`));
  for (const [abi, name, value] of REQUESTS) {
    const shared = h2008.KSM_GET_API_VERSION === value || h2008.KSM_CREATE_SHARED_MEMORY_AREA === value || h2008.KSM_REMOVE_MEMORY_REGION === value;
    t.true(listed.has(`${shared ? '2008' : abi}:${value}`), `${abi} ${name}`);
  }
});
