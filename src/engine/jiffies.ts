/**
 * Scheduler ticks for the eras whose kthread sleeps are given in
 * microseconds (the /dev/ksm patches: schedule_timeout_interruptible(
 * usecs_to_jiffies(kthread_sleep))). The seeds do not show the rounding;
 * the simulated kernels use HZ = 250, the x86 default of 2.6.28/2.6.29
 * (CONFIG_HZ_250) [outside the seeds], and usecs_to_jiffies rounds up as
 * include/linux/jiffies.h of that time does.
 */
export const HZ = 250;
export const USEC_PER_SEC = 1_000_000;

/** usecs_to_jiffies(u): u is an unsigned int; rounds up to whole ticks (HZ must divide 10^6). */
export function usecsToJiffies(u: number, hz = HZ): number {
  const us = u >>> 0;
  const per = USEC_PER_SEC / hz; // 4000 µs per tick at HZ = 250
  return Math.floor((us + per - 1) / per);
}

/** The length of `j` ticks in microseconds. */
export function jiffiesToUsecs(j: number, hz = HZ): number {
  return (j * USEC_PER_SEC) / hz;
}
