/**
 * The worker thread of a real run (run.ts): the workload runner is
 * synchronous and so is the real driver (each step waits for the kernel),
 * so it runs here while the main thread stays free to answer Ctrl-C and
 * SIGTERM, kill the workload's processes and put the knobs back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { REAL_ERA } from '../eras/registry.js';
import { runWorkload } from '../workload/runner.js';
import { WorkloadError, type Workload } from '../workload/schema.js';
import { RealDriver, type RealDriverOptions } from './driver.js';

export interface RealWorkerData {
  workload: Workload;
  opts: Omit<RealDriverOptions, 'onProcess' | 'nodes'> & { nodes?: Array<[string, number]> };
}

export type RealWorkerMessage =
  | { type: 'process'; pid: number }
  | { type: 'result'; result: ReturnType<typeof runWorkload>; passMs: number[]; passCpuNs: number[]; pokes: number }
  | { type: 'error'; workload: boolean; message: string };

const data = workerData as RealWorkerData;
const post = (m: RealWorkerMessage) => parentPort!.postMessage(m);
const driver = new RealDriver(REAL_ERA, {
  ...data.opts,
  nodes: data.opts.nodes ? new Map(data.opts.nodes) : undefined,
  onProcess: (pid) => post({ type: 'process', pid }),
});
try {
  const result = runWorkload(data.workload, driver);
  post({ type: 'result', result, passMs: driver.passMs, passCpuNs: driver.passCpuNs, pokes: driver.pokes });
} catch (e) {
  post({ type: 'error', workload: e instanceof WorkloadError, message: (e as Error).message });
} finally {
  driver.killAll();
}
