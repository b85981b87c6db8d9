/**
 * The host's machine in its worker thread (engine.ts, WorkerEngine): boots
 * the HostMachine the data describes, says it is ready (or why it is not),
 * then runs each request it is sent and posts the reply.
 */
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { parseEra } from '../eras/registry.js';
import type { Workload } from '../workload/schema.js';
import type { EngineMessage, HostWorkerData, WorkerMessage } from './engine.js';
import { type ClockMode, HostMachine } from './machine.js';
import type { HostInfo } from './protocol.js';
import { runDetach, runRequest } from './requests.js';

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const data = workerData as HostWorkerData;
  const post = (m: WorkerMessage) => port.postMessage(m);
  let machine: HostMachine;
  try {
    let w: Workload | undefined;
    if (data.workload !== undefined) {
      const { resolveWorkload } = await import('../cli/commands/workload-run.js');
      w = resolveWorkload(data.workload, existsSync);
    }
    machine = new HostMachine({ era: parseEra(data.era, { abi: data.abi }).id, workload: w, clock: data.clock as ClockMode, limits: data.limits });
  } catch (e) {
    post({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    return;
  }
  const info: HostInfo = {
    ...machine.info(),
    pid: data.pid,
    socket: data.socket,
  };
  port.on('message', (m: EngineMessage) => {
    switch (m.type) {
      case 'request':
        if (m.req.op === 'detach') void runDetach(machine, m.req).then((res) => post({ type: 'reply', seq: m.seq, res }));
        else post({ type: 'reply', seq: m.seq, res: runRequest(machine, m.req, info, machine.limits) });
        break;
      case 'open': {
        let error: string | null;
        try {
          error = machine.exec.open(
            m.id,
            m.attach,
            m.uid,
            (data) => post({ type: 'out', id: m.id, data }),
            () => post({ type: 'end', id: m.id }),
          );
        } catch (e) {
          error = `internal error: ${e instanceof Error ? e.message : String(e)}`;
        }
        post({ type: 'opened', seq: m.seq, error });
        break;
      }
      case 'data':
        machine.exec.data(m.id, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        break;
      case 'close':
        machine.exec.close(m.id);
        break;
    }
  });
  post({ type: 'ready', info });
}

void main();
