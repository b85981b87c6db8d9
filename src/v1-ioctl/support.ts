/**
 * What the /dev/ksm era offered a program, call by call, and how fully this
 * simulator models it: one table for the docs, help texts and tests.
 */
import type { KsmAbi } from './device.js';
import * as h2008 from './linux-ksm-2008.js';
import * as h2009 from './linux-ksm-2009.js';

export type Support = 'supported' | 'partial' | 'ENOSYS';

export interface SupportRow {
  call: string;
  abi: KsmAbi | 'both';
  /** The request number, for ioctls. */
  request?: number;
  support: Support;
  note: string;
}

export const V1_SUPPORT: readonly SupportRow[] = [
  { call: 'open("/dev/ksm")', abi: 'both', support: 'supported', note: 'permission bits of the node only (root:root 0660 by default); the driver has no open method' },
  { call: 'close, dup, dup2', abi: 'both', support: 'supported', note: 'lowest free fd; the SMA file is released (its regions unregistered) when its last copy closes' },
  { call: 'fork, exit', abi: 'both', support: 'supported', note: 'fork shares every fd; exit closes them; a slot keeps its mm alive (get_task_mm) while registered' },
  { call: 'execve', abi: 'both', support: 'ENOSYS', note: 'not modelled; FD_CLOEXEC is kept (FIOCLEX/FIONCLEX, O_CLOEXEC) but nothing acts on it' },
  { call: 'mmap, munmap (anonymous)', abi: 'both', support: 'supported', note: 'file mappings do not exist in this model' },
  { call: 'KSM_GET_API_VERSION', abi: 'both', request: h2008.KSM_GET_API_VERSION, support: 'supported', note: 'returns 1 in both ABIs' },
  { call: 'KSM_CREATE_SHARED_MEMORY_AREA', abi: 'both', request: h2008.KSM_CREATE_SHARED_MEMORY_AREA, support: 'supported', note: '-1 when kmalloc fails (fault injection)' },
  { call: 'KSM_REMOVE_MEMORY_REGION', abi: 'both', request: h2008.KSM_REMOVE_MEMORY_REGION, support: 'supported', note: 'removes every region of the SMA; the first slot of the same mm is unlinked, as in the seeds' },
  { call: 'KSM_CREATE_SCAN', abi: '2008', request: h2008.KSM_CREATE_SCAN, support: 'supported', note: 'creates the HMAC transform on first use' },
  { call: 'KSM_START_STOP_KTHREAD', abi: '2008', request: h2008.KSM_START_STOP_KTHREAD, support: 'supported', note: '+EPERM when run with a zero page or merge count; sleeps rounded to HZ = 250 ticks' },
  { call: 'KSM_GET_INFO_KTHREAD', abi: '2008', request: h2008.KSM_GET_INFO_KTHREAD, support: 'supported', note: 'reads back exactly what was stored' },
  { call: 'KSM_REGISTER_MEMORY_REGION', abi: '2008', request: h2008.KSM_REGISTER_MEMORY_REGION, support: 'supported', note: 'nothing validated; npages stored in an int' },
  { call: 'KSM_SCAN', abi: '2008', request: h2008.KSM_SCAN, support: 'supported', note: 'user-context scan on the SCAN fd\'s own cursor; -EAGAIN with no slot' },
  { call: 'KSM_START_STOP_KTHREAD', abi: '2009', request: h2009.KSM_START_STOP_KTHREAD, support: 'supported', note: '+EPERM when run with a zero page count' },
  { call: 'KSM_GET_INFO_KTHREAD', abi: '2009', request: h2009.KSM_GET_INFO_KTHREAD, support: 'partial', note: 'pad and reserved_bits, uninitialised kernel stack in the seed, come back as zeros' },
  { call: 'KSM_REGISTER_MEMORY_REGION', abi: '2009', request: h2009.KSM_REGISTER_MEMORY_REGION, support: 'supported', note: 'nothing validated; npages unsigned' },
  { call: 'other requests', abi: 'both', support: 'supported', note: '-EINVAL on the device fd, +22 (positive EINVAL) on SMA and SCAN fds; FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE answered by the VFS first' },
];
