/**
 * This process's CPU time, ms. An input's time is measured in CPU, not on
 * the wall clock: on a loaded machine (other jobs on its cores) an input
 * waits for a core without doing more work, and that must not count as a hang.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
