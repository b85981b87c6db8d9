/**
 * The /dev/ksm misc character device (minor 233) and the anonymous-inode
 * files it hands out: ksm_dev_ioctl implements ioctl(2) on the device fd,
 * ksm_sma_ioctl on SMA fds, ksm_scan_ioctl on SCAN fds, for both ABIs of
 * the device (seed 001, November 2008, and seed 002, March 2009).
 *
 * Handlers are thin, as in the seeds: copy the argument in, call the
 * semantic core (engine/merge/hash-2008.ts for the 2008 ABI, the 2009 tree
 * merger behind `Ksm2009Device` for the 2009 ABI), copy the result out.
 * Return values are the seeds' own, oddities included: an unknown request on
 * an SMA or SCAN fd returns +EINVAL (22) and a refused START_STOP +EPERM (1),
 * which ioctl() hands to the program as a success value.
 *
 * Which ABI a caller speaks is told by the request number: _IOW puts the
 * struct's size in bits 16..29, so the 16-byte REGISTER of 2008 (0x4010AB20)
 * and the 24-byte one of 2009 (0x4018AB20) differ, and no number means one
 * thing in one header and another in the other. A device built for one ABI
 * (`abis` '2008' or '2009') answers the other header's numbers as that seed
 * did (its default cases); a device built for both serves each header on
 * its own merger, and the numbers the two headers share (GET_API_VERSION,
 * CREATE_SHARED_MEMORY_AREA, REMOVE_MEMORY_REGION) act on both.
 */
import { ERRNO } from '../engine/errno.js';
import type { Process } from '../engine/machine.js';
import type { Memory } from '../engine/memory/memory.js';
import type { Mm } from '../engine/memory/mm.js';
import { type Hash2008, KsmScan, type KsmSma } from '../engine/merge/hash-2008.js';
import { decodeStruct, encodeStruct, type StructLayout } from '../kernel/cstruct.js';
import type { FileOperations, KFile } from './files.js';
import * as h2008 from './linux-ksm-2008.js';
import * as h2009 from './linux-ksm-2009.js';
import { copyFromUser, copyToUser } from './uaccess.js';

export type KsmAbi = '2008' | '2009';
export type DeviceAbis = KsmAbi | 'both';

/** The values of struct ksm_kthread_info in the 2009 layout that the kernel reads and writes. */
export interface KthreadInfo2009 {
  sleep: number;
  pages_to_scan: number;
  flags: number;
}

/**
 * What the device needs from the March 2009 KSM code (seed 002): the SMA and
 * kthread functions of its mm/ksm.c, on the 2009 tree merger.
 */
export interface Ksm2009Device {
  /** kmalloc of a struct ksm_sma, or null when it fails. */
  allocSma(): unknown;
  /** ksm_sma_ioctl_register_memory_region (current: the caller's mm, null when it has none). */
  ksmSmaIoctlRegisterMemoryRegion(sma: unknown, current: Mm | null, mem: { npages: number; addr: bigint }): number;
  /** ksm_sma_ioctl_remove_memory_region */
  ksmSmaIoctlRemoveMemoryRegion(sma: unknown): number;
  /** ksm_sma_release */
  ksmSmaRelease(sma: unknown): number;
  /** ksm_dev_ioctl_start_stop_kthread */
  ksmDevIoctlStartStopKthread(info: KthreadInfo2009): number;
  /** ksm_dev_ioctl_get_info_kthread */
  ksmDevIoctlGetInfoKthread(): KthreadInfo2009;
}

/** Services of the rest of the kernel the device calls. */
export interface DeviceHost {
  readonly memory: Memory;
  /** anon_inode_getfd(name, fops, priv, flags) in the calling process: the fd, or -errno. */
  anonInodeGetfd(current: Process, name: string, fops: FileOperations, priv: unknown, flags: number): number;
}

/** private_data of an SMA file: the SMA of each merger the device serves. */
export interface SmaFile {
  sma2008: KsmSma | null;
  sma2009: unknown;
}

/** Where a request number is understood, for tables and strace-style output. */
export interface RequestInfo {
  name: string;
  abi: KsmAbi | 'both';
  fd: 'device' | 'sma' | 'scan';
  layout: StructLayout | null;
}

const SHARED = [h2008.KSM_GET_API_VERSION, h2008.KSM_CREATE_SHARED_MEMORY_AREA, h2008.KSM_REMOVE_MEMORY_REGION];

/** Every request number of both headers, with its name, ABI and fd type. */
export function requestTable(): Map<number, RequestInfo> {
  const m = new Map<number, RequestInfo>();
  const add = (req: number, name: string, abi: KsmAbi, fd: RequestInfo['fd'], layout: StructLayout | null) => {
    const prev = m.get(req);
    if (prev !== undefined && prev.name !== name) throw new Error(`request 0x${req.toString(16)} is ${prev.name} and ${name}`);
    m.set(req, { name, abi: prev !== undefined ? 'both' : abi, fd, layout });
  };
  add(h2008.KSM_GET_API_VERSION, 'KSM_GET_API_VERSION', '2008', 'device', null);
  add(h2008.KSM_CREATE_SHARED_MEMORY_AREA, 'KSM_CREATE_SHARED_MEMORY_AREA', '2008', 'device', null);
  add(h2008.KSM_CREATE_SCAN, 'KSM_CREATE_SCAN', '2008', 'device', null);
  add(h2008.KSM_START_STOP_KTHREAD, 'KSM_START_STOP_KTHREAD', '2008', 'device', h2008.ksm_kthread_info.layout);
  add(h2008.KSM_GET_INFO_KTHREAD, 'KSM_GET_INFO_KTHREAD', '2008', 'device', h2008.ksm_kthread_info.layout);
  add(h2008.KSM_REGISTER_MEMORY_REGION, 'KSM_REGISTER_MEMORY_REGION', '2008', 'sma', h2008.ksm_memory_region.layout);
  add(h2008.KSM_REMOVE_MEMORY_REGION, 'KSM_REMOVE_MEMORY_REGION', '2008', 'sma', null);
  add(h2008.KSM_SCAN, 'KSM_SCAN', '2008', 'scan', h2008.ksm_user_scan.layout);
  add(h2009.KSM_GET_API_VERSION, 'KSM_GET_API_VERSION', '2009', 'device', null);
  add(h2009.KSM_CREATE_SHARED_MEMORY_AREA, 'KSM_CREATE_SHARED_MEMORY_AREA', '2009', 'device', null);
  add(h2009.KSM_START_STOP_KTHREAD, 'KSM_START_STOP_KTHREAD', '2009', 'device', h2009.ksm_kthread_info.layout);
  add(h2009.KSM_GET_INFO_KTHREAD, 'KSM_GET_INFO_KTHREAD', '2009', 'device', h2009.ksm_kthread_info.layout);
  add(h2009.KSM_REGISTER_MEMORY_REGION, 'KSM_REGISTER_MEMORY_REGION', '2009', 'sma', h2009.ksm_memory_region.layout);
  add(h2009.KSM_REMOVE_MEMORY_REGION, 'KSM_REMOVE_MEMORY_REGION', '2009', 'sma', null);
  return m;
}

export class KsmDevice {
  /** ksm_chardev_ops: the device fd (no open, no release). */
  readonly chardevOps: FileOperations;
  /** ksm_sma_fops */
  readonly smaFops: FileOperations;
  /** ksm_scan_fops (2008 only) */
  readonly scanFops: FileOperations;

  constructor(
    private readonly host: DeviceHost,
    readonly abis: DeviceAbis,
    readonly ksm2008: Hash2008 | null,
    readonly ksm2009: Ksm2009Device | null,
  ) {
    if ((abis !== '2009') !== (ksm2008 !== null)) throw new Error(`device for ${abis}: the 2008 merger is ${ksm2008 ? 'present' : 'missing'}`);
    if ((abis !== '2008') !== (ksm2009 !== null)) throw new Error(`device for ${abis}: the 2009 merger is ${ksm2009 ? 'present' : 'missing'}`);
    this.chardevOps = { unlockedIoctl: (f, cmd, arg, cur) => this.ksmDevIoctl(f, cmd, arg, cur) };
    this.smaFops = {
      unlockedIoctl: (f, cmd, arg, cur) => this.ksmSmaIoctl(f, cmd, arg, cur),
      release: (f) => this.ksmSmaRelease(f),
    };
    this.scanFops = {
      unlockedIoctl: (f, cmd, arg, cur) => this.ksmScanIoctl(f, cmd, arg, cur),
      release: (f) => this.ksmScanRelease(f),
    };
  }

  get speaks2008(): boolean {
    return this.ksm2008 !== null;
  }

  get speaks2009(): boolean {
    return this.ksm2009 !== null;
  }

  /** copy_from_user of a struct: its values, or -EFAULT. */
  private copyStructFromUser(current: Process, arg: bigint, layout: StructLayout): Record<string, number | bigint> | number {
    const bytes = copyFromUser(this.host.memory, current.mm, arg, layout.size);
    return typeof bytes === 'number' ? bytes : decodeStruct(layout, bytes);
  }

  /** get_task_mm(current) */
  private getTaskMm(current: Process): Mm | null {
    return current.exited ? null : current.mm;
  }

  // ------------------------------------------------------------ device fd

  /** ksm_dev_ioctl */
  ksmDevIoctl(_file: KFile, ioctl: number, arg: bigint, current: Process): number {
    switch (ioctl) {
      case h2008.KSM_GET_API_VERSION: // the same number and value in both headers
        return h2008.KSM_API_VERSION;
      case h2008.KSM_CREATE_SHARED_MEMORY_AREA:
        return this.ksmDevIoctlCreateSharedMemoryArea(current);
    }
    if (this.ksm2008 !== null) {
      switch (ioctl) {
        case h2008.KSM_CREATE_SCAN:
          return this.ksmDevIoctlCreateScan(current, this.ksm2008);
        case h2008.KSM_START_STOP_KTHREAD: {
          const info = this.copyStructFromUser(current, arg, h2008.ksm_kthread_info.layout);
          if (typeof info === 'number') return info;
          return this.ksm2008.ksmDevIoctlStartStopKthread({
            sleep: Number(info.sleep),
            pages_to_scan: Number(info.pages_to_scan),
            max_pages_to_merge: Number(info.max_pages_to_merge),
            flags: Number(info.flags),
          });
        }
        case h2008.KSM_GET_INFO_KTHREAD: {
          const info = this.ksm2008.ksmDevIoctlGetInfoKthread();
          return copyToUser(this.host.memory, current.mm, arg, encodeStruct(h2008.ksm_kthread_info.layout, { ...info }));
        }
      }
    }
    if (this.ksm2009 !== null) {
      switch (ioctl) {
        case h2009.KSM_START_STOP_KTHREAD: {
          const info = this.copyStructFromUser(current, arg, h2009.ksm_kthread_info.layout);
          if (typeof info === 'number') return info;
          // pad and reserved_bits are ignored.
          return this.ksm2009.ksmDevIoctlStartStopKthread({ sleep: Number(info.sleep), pages_to_scan: Number(info.pages_to_scan), flags: Number(info.flags) });
        }
        case h2009.KSM_GET_INFO_KTHREAD: {
          // Only sleep, pages_to_scan and flags of the kernel's stack struct are
          // filled, and all 24 bytes are copied out: bytes 12..23 carry whatever
          // was on the kernel stack. @see ksm_dev_ioctl_get_info_kthread (002):
          // deliberately written as zeros here (spec v1-ioctl.md §3 allows it).
          const info = this.ksm2009.ksmDevIoctlGetInfoKthread();
          return copyToUser(this.host.memory, current.mm, arg, encodeStruct(h2009.ksm_kthread_info.layout, { ...info, pad: 0, reserved_bits: 0n }));
        }
      }
    }
    return -ERRNO.EINVAL;
  }

  /** ksm_dev_ioctl_create_shared_memory_area: the new SMA fd; -1 when kmalloc fails. */
  private ksmDevIoctlCreateSharedMemoryArea(current: Process): number {
    const fd = -1;
    const sma: SmaFile = { sma2008: null, sma2009: null };
    if (this.ksm2008 !== null) {
      sma.sma2008 = this.ksm2008.allocSma();
      if (sma.sma2008 === null) return fd;
    }
    if (this.ksm2009 !== null) {
      sma.sma2009 = this.ksm2009.allocSma();
      if (sma.sma2009 === null) return fd;
    }
    // anon_inode_getfd failing leaves nothing behind: the SMA is just freed.
    return this.host.anonInodeGetfd(current, 'ksm-sma', this.smaFops, sma, 0);
  }

  /** ksm_dev_ioctl_create_scan (2008): the transform first, then a zeroed cursor and its fd. */
  private ksmDevIoctlCreateScan(current: Process, ksm: Hash2008): number {
    if (!ksm.tfm) {
      const fd = ksm.ksmTfmInit();
      if (fd) return fd;
    }
    const ksmScan = ksm.ksmScanCreate();
    if (ksmScan === null) return -ERRNO.ENOMEM;
    return this.host.anonInodeGetfd(current, 'ksm-scan', this.scanFops, ksmScan, 0);
  }

  // ------------------------------------------------------------ SMA fd

  /** ksm_sma_ioctl: note `int r = EINVAL`, positive. */
  ksmSmaIoctl(file: KFile, ioctl: number, arg: bigint, current: Process): number {
    const sma = file.privateData as SmaFile;
    let r = ERRNO.EINVAL;
    if (ioctl === h2008.KSM_REMOVE_MEMORY_REGION) {
      // The same number in both headers: every slot of this SMA, in each merger.
      r = 0;
      if (this.ksm2008 !== null) r = this.ksm2008.ksmSmaIoctlRemoveMemoryRegion(sma.sma2008!);
      if (this.ksm2009 !== null) r = this.ksm2009.ksmSmaIoctlRemoveMemoryRegion(sma.sma2009);
      return r;
    }
    if (this.ksm2008 !== null && ioctl === h2008.KSM_REGISTER_MEMORY_REGION) {
      const mem = this.copyStructFromUser(current, arg, h2008.ksm_memory_region.layout);
      if (typeof mem === 'number') return mem;
      return this.ksm2008.ksmSmaIoctlRegisterMemoryRegion(sma.sma2008!, this.getTaskMm(current), { npages: Number(mem.npages), addr: BigInt(mem.addr) });
    }
    if (this.ksm2009 !== null && ioctl === h2009.KSM_REGISTER_MEMORY_REGION) {
      const mem = this.copyStructFromUser(current, arg, h2009.ksm_memory_region.layout);
      if (typeof mem === 'number') return mem;
      return this.ksm2009.ksmSmaIoctlRegisterMemoryRegion(sma.sma2009, this.getTaskMm(current), { npages: Number(mem.npages), addr: BigInt(mem.addr) });
    }
    return r;
  }

  /** ksm_sma_release: remove every slot of the SMA, then free it. */
  private ksmSmaRelease(file: KFile): number {
    const sma = file.privateData as SmaFile;
    let r = 0;
    if (this.ksm2008 !== null) r = this.ksm2008.ksmSmaRelease(sma.sma2008!);
    if (this.ksm2009 !== null) r = this.ksm2009.ksmSmaRelease(sma.sma2009);
    file.privateData = null;
    return r;
  }

  // ------------------------------------------------------------ SCAN fd (2008)

  /** ksm_scan_ioctl: note `int r = EINVAL`, positive. */
  ksmScanIoctl(file: KFile, ioctl: number, arg: bigint, current: Process): number {
    const ksmScan = file.privateData as KsmScan;
    if (ioctl === h2008.KSM_SCAN && this.ksm2008 !== null) {
      const scan = this.copyStructFromUser(current, arg, h2008.ksm_user_scan.layout);
      if (typeof scan === 'number') return scan;
      return this.ksm2008.ksmScanIoctlStart(ksmScan, {
        pages_to_scan: Number(scan.pages_to_scan),
        max_pages_to_merge: Number(scan.max_pages_to_merge),
        flags: Number(scan.flags),
      });
    }
    return ERRNO.EINVAL;
  }

  /** ksm_scan_release: kfree the cursor. */
  private ksmScanRelease(file: KFile): number {
    file.privateData = null;
    return 0;
  }

  /** The cursor behind a SCAN file (for inspection). */
  static scanCursor(file: KFile): KsmScan | null {
    return file.privateData instanceof KsmScan ? file.privateData : null;
  }
}

/** The request numbers the two headers share. */
export const SHARED_REQUESTS: readonly number[] = SHARED;
