/**
 * CPU time (user + system, seconds) of this process's children that have
 * been waited for: getrusage(RUSAGE_CHILDREN) through koffi (Node reports
 * only its own). On a shared machine the CPU a command took is steadier than
 * its wall time. null where koffi or libc cannot be loaded.
 */
import { createRequire } from 'node:module';

/** <sys/resource.h> */
const RUSAGE_CHILDREN = -1;
/** struct rusage on 64-bit Linux: 2 struct timeval then 14 longs. */
const RUSAGE_BYTES = 144;

let getrusage: ((who: number, out: Buffer) => number) | null | undefined;

export function childrenCpuSeconds(): number | null {
  if (getrusage === undefined) {
    try {
      const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
      getrusage = koffi.load('libc.so.6').func('int getrusage(int who, _Out_ uint8_t *usage)') as (who: number, out: Buffer) => number;
    } catch {
      getrusage = null;
    }
  }
  if (getrusage === null) return null;
  const b = Buffer.alloc(RUSAGE_BYTES);
  if (getrusage(RUSAGE_CHILDREN, b) !== 0) return null;
  const tv = (o: number) => Number(b.readBigInt64LE(o)) + Number(b.readBigInt64LE(o + 8)) / 1e6;
  return tv(0) + tv(16);
}
