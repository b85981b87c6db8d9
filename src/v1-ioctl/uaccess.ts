/**
 * copy_from_user / copy_to_user for ioctl arguments: the argument is an
 * address in the calling process, and the struct is read from or written to
 * that process's simulated memory. access_ok rejects ranges that leave user
 * space; an unmapped or unreadable (unwritable) page in the range faults.
 * The seeds turn any failed copy into -EFAULT.
 */
import { ERRNO } from '../engine/errno.js';
import type { Memory } from '../engine/memory/memory.js';
import { type Mm, TASK_SIZE } from '../engine/memory/mm.js';

/** access_ok(type, addr, size): the whole range lies below TASK_SIZE. */
export function accessOk(addr: bigint, size: number): boolean {
  return addr >= 0n && addr + BigInt(size) <= BigInt(TASK_SIZE);
}

/** copy_from_user: the `size` bytes at user address `from`, or -EFAULT. */
export function copyFromUser(memory: Memory, mm: Mm, from: bigint, size: number): Uint8Array | number {
  if (!accessOk(from, size)) return -ERRNO.EFAULT;
  const r = memory.readBytes(mm, Number(from), size);
  return typeof r === 'number' ? -ERRNO.EFAULT : r;
}

/** copy_to_user: 0, or -EFAULT (bytes before the faulting page may have been written, as in the kernel). */
export function copyToUser(memory: Memory, mm: Mm, to: bigint, data: Uint8Array): number {
  if (!accessOk(to, data.length)) return -ERRNO.EFAULT;
  return memory.writeBytes(mm, Number(to), data) < 0 ? -ERRNO.EFAULT : 0;
}
