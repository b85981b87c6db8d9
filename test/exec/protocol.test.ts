/**
 * The pieces of exec below the end-to-end tests: the request framing
 * (requests split and joined arbitrarily by the stream), the reply layout
 * the C library reads, and the ELF check that refuses static programs.
 */
import test from 'ava';
import fc from 'fast-check';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programKind } from '../../src/exec/elf.js';
import { encodeReply, OP, REP_HEADER, REQ_HEADER, RequestReader } from '../../src/exec/protocol.js';

function request(op: number, pid: number, a: bigint[], data: Buffer): Buffer {
  const b = Buffer.alloc(REQ_HEADER + data.length);
  b.writeUInt32LE(data.length, 0);
  b.writeUInt32LE(op, 4);
  b.writeInt32LE(pid, 8);
  a.forEach((v, i) => b.writeBigInt64LE(v, 16 + 8 * i));
  data.copy(b, REQ_HEADER);
  return b;
}

test('requests come out whole and in order however the stream cuts them', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 18 }), fc.uint8Array({ maxLength: 300 }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1 }), (reqs, cuts) => {
      const stream = Buffer.concat(reqs.map(([op, data, a0], i) => request(op, 1000 + i, [a0, 2n, 3n], Buffer.from(data))));
      const r = new RequestReader();
      const out = [];
      for (let at = 0, k = 0; at < stream.length; k++) {
        const n = cuts[k % cuts.length];
        out.push(...r.push(Buffer.from(stream.subarray(at, at + n))));
        at += n;
      }
      t.is(out.length, reqs.length);
      out.forEach((q, i) => {
        t.is(q.op, reqs[i][0]);
        t.is(q.pid, 1000 + i);
        t.is(q.a[0], reqs[i][2]);
        t.deepEqual([...q.data], [...reqs[i][1]]);
      });
    }),
  );
});

test('a reply is the 40-byte header the library reads, then its data', (t) => {
  const b = encodeReply({ ret: -22, b0: 1, data: Buffer.from('1\n') }, 5_000_000_000n);
  t.is(b.length, REP_HEADER + 2);
  t.is(b.readUInt32LE(0), 2);
  t.is(b.readBigInt64LE(8), -22n);
  t.is(b.readBigInt64LE(16), 1n);
  t.is(b.readBigInt64LE(32), 5_000_000_000n);
  t.is(b.subarray(REP_HEADER).toString(), '1\n');
  t.is(OP.STAT, 18);
});

test('programKind: a dynamic ELF, a script, anything else', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-elf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // node itself, as distributions and nodejs.org build it.
  if (process.platform === 'linux') t.is(programKind(process.execPath), 'dynamic');
  writeFileSync(join(dir, 's'), '#!/bin/sh\nexit 0\n');
  t.is(programKind(join(dir, 's')), 'script');
  writeFileSync(join(dir, 'x'), 'not a program');
  t.is(programKind(join(dir, 'x')), 'other');
  // An ELF header whose program headers hold no PT_INTERP: a static program.
  const elf = Buffer.alloc(64 + 56);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2;
  elf[5] = 1;
  elf.writeBigUInt64LE(64n, 32);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56);
  elf.writeUInt32LE(1, 64); // PT_LOAD
  writeFileSync(join(dir, 'static'), elf);
  t.is(programKind(join(dir, 'static')), 'static');
  elf.writeUInt32LE(3, 64); // PT_INTERP
  writeFileSync(join(dir, 'dynamic'), elf);
  t.is(programKind(join(dir, 'dynamic')), 'dynamic');
});
