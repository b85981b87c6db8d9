/**
 * include/linux/ksm.h of March 2009 (seed 002, "[4/4] add ksm kernel shared
 * memory driver"): the same device as in 2008, with the structs grown to 24
 * bytes (`reserved_bits`), max_pages_to_merge gone, the kthread ioctls
 * renumbered and no scanner fds. A program written for this header imports
 * from here.
 *
 * Layouts, with offsets (spec v1-ioctl.md §3, ABI-2009):
 *
 *   struct ksm_memory_region   24 bytes   npages@0 u32, pad@4 u32, addr@8 u64, reserved_bits@16 u64
 *   struct ksm_kthread_info    24 bytes   sleep@0, pages_to_scan@4, flags@8, pad@12 (u32), reserved_bits@16 u64
 */
import { CStruct, structLayout, u32, u64 } from '../kernel/cstruct.js';
import { _IO, _IOW } from '../kernel/ioctl.js';

export const KSM_API_VERSION = 1;

export const ksm_control_flags_run = 1;

/** for KSM_REGISTER_MEMORY_REGION */
export class ksm_memory_region extends CStruct {
  static readonly layout = structLayout('struct ksm_memory_region', '2009', 24, [
    u32('npages', 0), /* number of pages to share */
    u32('pad', 4),
    u64('addr', 8), /* the begining of the virtual address */
    u64('reserved_bits', 16),
  ]);
  declare npages: number;
  declare pad: number;
  declare addr: bigint;
  declare reserved_bits: bigint;
  constructor(init?: { npages?: number; pad?: number; addr?: number | bigint; reserved_bits?: number | bigint }) {
    super(init);
  }
}

export class ksm_kthread_info extends CStruct {
  static readonly layout = structLayout('struct ksm_kthread_info', '2009', 24, [
    u32('sleep', 0), /* number of microsecoends to sleep */
    u32('pages_to_scan', 4), /* number of pages to scan */
    u32('flags', 8), /* control flags */
    u32('pad', 12),
    u64('reserved_bits', 16),
  ]);
  declare sleep: number;
  declare pages_to_scan: number;
  declare flags: number;
  declare pad: number;
  declare reserved_bits: bigint;
  constructor(init?: { sleep?: number; pages_to_scan?: number; flags?: number; pad?: number; reserved_bits?: number | bigint }) {
    super(init);
  }
}

export const KSMIO = 0xab;

/* ioctls for /dev/ksm */

export const KSM_GET_API_VERSION = _IO(KSMIO, 0x00);
/** KSM_CREATE_SHARED_MEMORY_AREA - create the shared memory reagion fd */
export const KSM_CREATE_SHARED_MEMORY_AREA = _IO(KSMIO, 0x01); /* return SMA fd */
/**
 * KSM_START_STOP_KTHREAD - control the kernel thread scanning speed
 * (can stop the kernel thread from working by setting running = 0)
 */
export const KSM_START_STOP_KTHREAD = _IOW(KSMIO, 0x02, ksm_kthread_info);
/**
 * KSM_GET_INFO_KTHREAD - return information about the kernel thread
 * scanning speed. (Declared _IOW although the kernel writes the struct.)
 */
export const KSM_GET_INFO_KTHREAD = _IOW(KSMIO, 0x03, ksm_kthread_info);

/* ioctls for SMA fds */

/** KSM_REGISTER_MEMORY_REGION - register virtual address memory area to be scanned by kvm. */
export const KSM_REGISTER_MEMORY_REGION = _IOW(KSMIO, 0x20, ksm_memory_region);
/** KSM_REMOVE_MEMORY_REGION - remove virtual address memory area from ksm. */
export const KSM_REMOVE_MEMORY_REGION = _IO(KSMIO, 0x21);

/** Every request number of this header, by name. */
export const REQUESTS_2009 = {
  KSM_GET_API_VERSION,
  KSM_CREATE_SHARED_MEMORY_AREA,
  KSM_START_STOP_KTHREAD,
  KSM_GET_INFO_KTHREAD,
  KSM_REGISTER_MEMORY_REGION,
  KSM_REMOVE_MEMORY_REGION,
} as const;

export const STRUCTS_2009 = { ksm_memory_region, ksm_kthread_info } as const;
