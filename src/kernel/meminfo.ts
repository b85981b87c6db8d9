/**
 * /proc/meminfo of a simulated machine, the lines programs of KSM's history
 * read (LTP's ksm tests and the selftests size their memory from MemTotal
 * and MemFree; ksmtuned from MemTotal): MemTotal is the machine's RAM,
 * MemFree what no frame holds, AnonPages the frames in use (all anonymous
 * here), in kB as fs/proc/meminfo.c prints them (`%8lu kB`). The other
 * lines of the real file are not modelled, so they are not printed.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Memory } from '../engine/memory/memory.js';

export function meminfoText(memory: Memory, ramPages = memory.ramPages): string {
  const kb = (pages: number) => `${String((pages * PAGE_SIZE) / 1024).padStart(8)} kB`;
  const used = Math.min(memory.frames.used, ramPages);
  return `MemTotal:       ${kb(ramPages)}\nMemFree:        ${kb(ramPages - used)}\nMemAvailable:   ${kb(ramPages - used)}\nAnonPages:      ${kb(used)}\n`;
}
