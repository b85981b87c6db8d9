/**
 * include/linux/ksm.h of November 2008 (seed 001, "[PATCH 3/4] add ksm
 * kernel shared memory driver"): "Userspace interface for /dev/ksm - kvm
 * shared memory". A program written for this header imports from here.
 *
 * Layouts, with offsets (spec v1-ioctl.md §3, ABI-2008):
 *
 *   struct ksm_memory_region   16 bytes   npages@0 u32, pad@4 u32, addr@8 u64
 *   struct ksm_user_scan       12 bytes   pages_to_scan@0, max_pages_to_merge@4, flags@8 (u32)
 *   struct ksm_kthread_info    16 bytes   sleep@0, pages_to_scan@4, max_pages_to_merge@8, flags@12 (u32)
 */
import { CStruct, structLayout, u32, u64 } from '../kernel/cstruct.js';
import { _IO, _IOW } from '../kernel/ioctl.js';

export const KSM_API_VERSION = 1;

export const ksm_control_flags_run = 1;

/** for KSM_REGISTER_MEMORY_REGION */
export class ksm_memory_region extends CStruct {
  static readonly layout = structLayout('struct ksm_memory_region', '2008', 16, [
    u32('npages', 0), /* number of pages to share */
    u32('pad', 4),
    u64('addr', 8), /* the begining of the virtual address */
  ]);
  declare npages: number;
  declare pad: number;
  declare addr: bigint;
  constructor(init?: { npages?: number; pad?: number; addr?: number | bigint }) {
    super(init);
  }
}

export class ksm_user_scan extends CStruct {
  static readonly layout = structLayout('struct ksm_user_scan', '2008', 12, [
    u32('pages_to_scan', 0),
    u32('max_pages_to_merge', 4),
    u32('flags', 8), /* control flags */
  ]);
  declare pages_to_scan: number;
  declare max_pages_to_merge: number;
  declare flags: number;
  constructor(init?: { pages_to_scan?: number; max_pages_to_merge?: number; flags?: number }) {
    super(init);
  }
}

export class ksm_kthread_info extends CStruct {
  static readonly layout = structLayout('struct ksm_kthread_info', '2008', 16, [
    u32('sleep', 0), /* number of microsecoends to sleep */
    u32('pages_to_scan', 4), /* number of pages to scan */
    u32('max_pages_to_merge', 8), /* maximum number of pages to merge */
    u32('flags', 12), /* control flags */
  ]);
  declare sleep: number;
  declare pages_to_scan: number;
  declare max_pages_to_merge: number;
  declare flags: number;
  constructor(init?: { sleep?: number; pages_to_scan?: number; max_pages_to_merge?: number; flags?: number }) {
    super(init);
  }
}

export const KSMIO = 0xab;

/* ioctls for /dev/ksm */

export const KSM_GET_API_VERSION = _IO(KSMIO, 0x00);
/** KSM_CREATE_SHARED_MEMORY_AREA - create the shared memory reagion fd */
export const KSM_CREATE_SHARED_MEMORY_AREA = _IO(KSMIO, 0x01); /* return SMA fd */
/** KSM_CREATE_SCAN - create the scanner fd */
export const KSM_CREATE_SCAN = _IO(KSMIO, 0x02); /* return SCAN fd */
/**
 * KSM_START_STOP_KTHREAD - control the kernel thread scanning speed
 * (can stop the kernel thread from working by setting running = 0)
 */
export const KSM_START_STOP_KTHREAD = _IOW(KSMIO, 0x03, ksm_kthread_info);
/**
 * KSM_GET_INFO_KTHREAD - return information about the kernel thread
 * scanning speed. (Declared _IOW although the kernel writes the struct.)
 */
export const KSM_GET_INFO_KTHREAD = _IOW(KSMIO, 0x04, ksm_kthread_info);

/* ioctls for SMA fds */

/** KSM_REGISTER_MEMORY_REGION - register virtual address memory area to be scanned by kvm. */
export const KSM_REGISTER_MEMORY_REGION = _IOW(KSMIO, 0x20, ksm_memory_region);
/** KSM_REMOVE_MEMORY_REGION - remove virtual address memory area from ksm. */
export const KSM_REMOVE_MEMORY_REGION = _IO(KSMIO, 0x21);

/* ioctls for SCAN fds */
export const KSM_SCAN = _IOW(KSMIO, 0x40, ksm_user_scan);

/** Every request number of this header, by name (for tables, strace output and tests). */
export const REQUESTS_2008 = {
  KSM_GET_API_VERSION,
  KSM_CREATE_SHARED_MEMORY_AREA,
  KSM_CREATE_SCAN,
  KSM_START_STOP_KTHREAD,
  KSM_GET_INFO_KTHREAD,
  KSM_REGISTER_MEMORY_REGION,
  KSM_REMOVE_MEMORY_REGION,
  KSM_SCAN,
} as const;

export const STRUCTS_2008 = { ksm_memory_region, ksm_user_scan, ksm_kthread_info } as const;
