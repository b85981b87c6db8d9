/**
 * A kernel with the /dev/ksm driver loaded, as a user program of November
 * 2008 or March 2009 sees it: processes with mmap/munmap/fork/exit, file
 * descriptors, open("/dev/ksm"), ioctl(2), and the kksmd thread on the
 * virtual clock. Calls return what the system call returns (a value >= 0,
 * positive oddities included, or -errno); the libc-style wrapper in libc.ts
 * turns negative results into -1 and errno.
 *
 * Which KSM code is loaded follows `abi`: '2008' is seed 001 (the hash-table
 * merger), '2009' is seed 002 (the tree merger), 'both' loads the two behind
 * one device, each serving the programs written for its header.
 */
import { checkVirtualTime, Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { Machine, type Process, type SpawnCred } from '../engine/machine.js';
import { CAP_FOWNER, capable, genericPermission } from '../kernel/cred.js';
import { Hash2008, type KsmAllocSite } from '../engine/merge/hash-2008.js';
import { KSM_DEVICE_PATH, MAY_READ, MAY_WRITE, O_ACCMODE, O_CLOEXEC, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY } from './constants.js';
import { FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIOQSIZE, O_NONBLOCK } from './constants.js';
import { type DeviceAbis, KsmDevice } from './device.js';
import { FdTable, type FileOperations, KFile } from './files.js';
import { Ksm2009, type Ksm2009AllocSite } from './ksm-2009.js';
import { Tree2009 } from '../engine/merge/tree-2009.js';

/** FASYNC: the f_flags bit FIOASYNC sets (asm-generic/fcntl.h). */
const FASYNC = 0o20000;

/** The simulated machine's RAM: 1 GiB of 4 KiB pages [outside the seeds: a choice of this simulator]. */
export const DEFAULT_RAM_PAGES = 262144;

/** The device node's inode: owner, group and permission bits. */
export interface DeviceNode {
  uid: number;
  gid: number;
  mode: number;
}

/**
 * /dev/ksm as udev creates a misc device for which no rule exists:
 * root:root, 0660 [outside the seeds: udev's default of that time]. The
 * seeds have no open handler, so these bits are the only access check.
 */
export const DEFAULT_DEVICE_NODE: Readonly<DeviceNode> = Object.freeze({ uid: 0, gid: 0, mode: 0o660 });

/** How a V1Kernel boots: the ABI (2008 or 2009), the hash table sizes of the 2008 module, the /dev/ksm node, RAM. */
export interface V1KernelOptions {
  /** Which header(s) the loaded driver speaks; default 'both'. */
  abi?: DeviceAbis;
  /** Simulated RAM in pages (the module parameter defaults derive from it). */
  ramPages?: number;
  /** 2008 module parameters (0 or absent: the seed's default formula). */
  pageHashSize?: number;
  rmapHashSize?: number;
  sha1HashSize?: number;
  /** Seed of get_random_bytes (the 2008 HMAC key). */
  randomSeed?: number;
  /** Fault injection for the drivers' allocations (the 2009 driver has two of the sites). */
  failAlloc?: (site: KsmAllocSite) => boolean;
  /** The /dev/ksm inode. */
  deviceNode?: DeviceNode;
}

/** The /dev/ksm kernel of Nov 2008 (seed 001) or Mar 2009 (seed 002): `open`, `ioctl` on the KSM device and its SMA (and 2008 SCAN) fds, `mmap`, page reads and writes, kksmd on a virtual clock. Calls return what the syscall returns: a value >= 0, or -errno. */
export class V1Kernel {
  readonly machine = new Machine();
  readonly ksm2008: Hash2008 | null = null;
  readonly ksm2009: Ksm2009 | null = null;
  /** kksmd of the 2008 driver. */
  readonly kksmd2008: Ksmd | null = null;
  /** kksmd of the 2009 driver. */
  readonly kksmd2009: Ksmd | null = null;
  readonly device: KsmDevice;
  readonly deviceNode: DeviceNode;
  readonly ramPages: number;
  private readonly files = new Map<number, FdTable>();

  constructor(opts: V1KernelOptions = {}) {
    const abi = opts.abi ?? 'both';
    this.ramPages = opts.ramPages ?? DEFAULT_RAM_PAGES;
    this.deviceNode = { ...(opts.deviceNode ?? DEFAULT_DEVICE_NODE) };
    if (abi !== '2009') {
      // nr_free_buffer_pages() at module load: the RAM not in use yet (a
      // 64-bit machine: all of it is lowmem) [outside the seeds].
      const ksm = new Hash2008(this.machine.memory, {
        nrFreeBufferPages: this.ramPages - this.machine.memory.frames.used,
        pageHashSize: opts.pageHashSize,
        rmapHashSize: opts.rmapHashSize,
        sha1HashSize: opts.sha1HashSize,
        randomSeed: opts.randomSeed,
        failAlloc: opts.failAlloc,
      });
      const kksmd = new Ksmd(this.machine.clock, {
        shouldRun: () => ksm.ksmdShouldRun(),
        batch: () => ksm.kthreadBatch(),
        sleepMicros: () => ksm.kthreadSleepMicros(),
        pagesScanned: () => ksm.kthreadKsmScan.positions,
      });
      ksm.kthreadWait = kksmd;
      this.ksm2008 = ksm;
      this.kksmd2008 = kksmd;
    }
    if (abi !== '2008') {
      const fail = opts.failAlloc;
      const ksm = new Ksm2009(new Tree2009(this.machine.memory, '002'), fail ? (site: Ksm2009AllocSite) => fail(site) : undefined);
      const kksmd = new Ksmd(this.machine.clock, ksm.kthread);
      ksm.kthreadWait = kksmd;
      this.ksm2009 = ksm;
      this.kksmd2009 = kksmd;
    }
    this.device = new KsmDevice(
      { memory: this.machine.memory, anonInodeGetfd: (cur, name, fops, priv, flags) => this.anonInodeGetfd(cur, name, fops, priv, flags) },
      abi,
      this.ksm2008,
      this.ksm2009,
    );
  }

  get memory() {
    return this.machine.memory;
  }

  get clock() {
    return this.machine.clock;
  }

  // ------------------------------------------------------------ processes

  /**
   * A new process (as after exec) with an empty address space and no open
   * files, of user `uid` and group `gid` (`cred`: supplementary groups,
   * capabilities).
   */
  spawn(name: string, uid = 0, gid = uid, cred: SpawnCred = {}): Process {
    const p = this.machine.spawn(name, uid, { ...cred, gid });
    this.files.set(p.pid, new FdTable());
    return p;
  }

  /** fork(): the child shares every private page copy-on-write and inherits every descriptor. */
  fork(p: Process): Process | number {
    if (p.exited) return -ERRNO.ESRCH;
    const child = this.machine.fork(p);
    if (typeof child === 'number') return child;
    this.files.set(child.pid, this.fdTable(p).fork());
    return child;
  }

  /**
   * exit(): exit_mm (the task's reference to its address space goes), then
   * exit_files (every descriptor closes; an SMA file whose last reference
   * this was is released, which unregisters its slots). An address space
   * still referenced by a registered slot lives on and keeps being scanned.
   */
  exit(p: Process): void {
    if (p.exited) return;
    this.machine.exit(p);
    this.fdTable(p).closeAll();
  }

  /** The descriptor table of a process. */
  fdTable(p: Process): FdTable {
    const t = this.files.get(p.pid);
    if (t === undefined) throw new Error(`pid ${p.pid} was not started by this kernel`);
    return t;
  }

  gid(p: Process): number {
    return p.gid;
  }

  // ------------------------------------------------------------ system calls

  /** mmap(2) of anonymous memory: the address or -errno. */
  mmap(p: Process, addr: number, length: number, prot: number, flags: number): number {
    return this.machine.mmap(p, addr, length, prot, flags);
  }

  munmap(p: Process, addr: number, length: number): number {
    return this.machine.munmap(p, addr, length);
  }

  /**
   * open(2). Only /dev/ksm exists in this file system. The access mode asks
   * for read and/or write permission on the node (mode 3, "ioctl only", asks
   * for both), checked by generic_permission against the node's owner,
   * group and mode (root passes by CAP_DAC_OVERRIDE); the driver has no open
   * method, so nothing else is checked, ever: whoever opens the node may
   * issue every ioctl of the device, KSM_START_STOP_KTHREAD included.
   */
  open(p: Process, path: string, flags: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    if (path !== KSM_DEVICE_PATH) return -ERRNO.ENOENT;
    if (flags & O_DIRECTORY) return -ERRNO.ENOTDIR;
    const acc = flags & O_ACCMODE;
    const want = acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : acc === O_RDWR ? MAY_READ | MAY_WRITE : MAY_READ | MAY_WRITE;
    const denied = genericPermission(this.deviceNode, p, want);
    if (denied) return denied;
    const table = this.fdTable(p);
    const fd = table.getUnusedFd();
    if (fd < 0) return fd;
    table.install(fd, new KFile(KSM_DEVICE_PATH, this.device.chardevOps, null, flags & ~O_CLOEXEC), (flags & O_CLOEXEC) !== 0);
    return fd;
  }

  /**
   * chmod(2) of /dev/ksm: its owner or a caller with CAP_FOWNER changes the
   * permission bits (what an administrator does to let users register
   * memory, and so, in this era, to let them stop kksmd). 0 or -errno.
   */
  chmod(p: Process, path: string, mode: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    if (path !== KSM_DEVICE_PATH) return -ERRNO.ENOENT;
    if (p.uid !== this.deviceNode.uid && !capable(p, CAP_FOWNER)) return -ERRNO.EPERM;
    this.deviceNode.mode = mode & 0o7777;
    return 0;
  }

  /** chown/chmod of the device node (by root, as udev rules or an administrator do). */
  setDeviceNode(node: Partial<DeviceNode>): void {
    Object.assign(this.deviceNode, node);
  }

  close(p: Process, fd: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.fdTable(p).close(fd);
  }

  dup(p: Process, fd: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.fdTable(p).dup(fd);
  }

  dup2(p: Process, oldfd: number, newfd: number): number {
    if (p.exited) return -ERRNO.ESRCH;
    return this.fdTable(p).dup2(oldfd, newfd);
  }

  /**
   * ioctl(2): sys_ioctl -> do_vfs_ioctl, which answers the generic requests
   * itself (FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE) and passes every
   * other number to the file's unlocked_ioctl. `arg` is the unsigned long
   * argument (a user address for the struct requests).
   */
  ioctl(p: Process, fd: number, cmd: number, arg: number | bigint = 0n): number {
    if (p.exited) return -ERRNO.ESRCH;
    const table = this.fdTable(p);
    const file = table.get(fd);
    if (file === null) return -ERRNO.EBADF;
    const a = BigInt.asUintN(64, BigInt(arg));
    cmd >>>= 0;
    switch (cmd) {
      case FIOCLEX:
        return table.setCloexec(fd, true);
      case FIONCLEX:
        return table.setCloexec(fd, false);
      case FIONBIO:
      case FIOASYNC: {
        // The int at arg says on or off.
        const v = this.memory.readBytes(p.mm, Number(a), 4);
        if (typeof v === 'number') return -ERRNO.EFAULT;
        const on = (v[0] | v[1] | v[2] | v[3]) !== 0;
        const bit = cmd === FIONBIO ? O_NONBLOCK : FASYNC;
        file.flags = on ? file.flags | bit : file.flags & ~bit;
        return 0;
      }
      case FIOQSIZE:
        return -ERRNO.ENOTTY; // not a directory, regular file or link
    }
    if (!file.fops.unlockedIoctl) return -ERRNO.ENOTTY;
    file.count++; // fget for the length of the call
    try {
      return file.fops.unlockedIoctl(file, cmd, a, p);
    } finally {
      if (--file.count === 0) {
        file.released = true;
        file.fops.release?.(file);
      }
    }
  }

  /** anon_inode_getfd: a new file on the anonymous inode, installed at the lowest free fd. */
  private anonInodeGetfd(current: Process, name: string, fops: FileOperations, priv: unknown, flags: number): number {
    const table = this.fdTable(current);
    const fd = table.getUnusedFd();
    if (fd < 0) return fd;
    table.install(fd, new KFile(`anon_inode:${name}`, fops, priv, flags), (flags & O_CLOEXEC) !== 0);
    return fd;
  }

  // ------------------------------------------------------------ time

  /** Lets virtual time pass: every kksmd batch due meanwhile runs. */
  sleep(ms: number): void {
    this.advanceTo(this.clock.now + ms * 1000);
  }

  /** Runs the kthreads loaded (one or two) up to time t (µs), their batches in time order. */
  advanceTo(t: number): void {
    checkVirtualTime(t);
    const threads: Array<{ k: Ksmd; shouldRun: () => boolean }> = [];
    if (this.kksmd2008 !== null) {
      const ksm = this.ksm2008!;
      threads.push({ k: this.kksmd2008, shouldRun: () => ksm.ksmdShouldRun() });
    }
    if (this.kksmd2009 !== null) {
      const th = this.ksm2009!.kthread;
      threads.push({ k: this.kksmd2009, shouldRun: () => th.shouldRun() });
    }
    for (;;) {
      let next: Ksmd | null = null;
      let at = Number.POSITIVE_INFINITY;
      for (const { k, shouldRun } of threads) {
        const w = k.wakeAt ?? (shouldRun() ? this.clock.now : null);
        if (w !== null && w < at) {
          at = w;
          next = k;
        }
      }
      if (next === null || at > t) break;
      next.advanceTo(at, 1);
    }
    this.clock.now = Math.max(this.clock.now, t);
  }
}
