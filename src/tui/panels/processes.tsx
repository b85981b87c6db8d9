/** Per process: registered pages, merged pages and copy-on-write breaks of KSM pages; the selected one is marked. */
import { Box, Text } from 'ink';
import type { ProcessInfo } from '../../session/session.js';
import { count, fit } from '../format.js';
import { Panel } from './panel.js';

export interface ProcessesProps {
  width: number;
  height: number;
  processes: ProcessInfo[];
  selectedPid: number;
  hint: string;
}

export function ProcessesPanel({ width, height, processes, selectedPid, hint }: ProcessesProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 3);
  const nameW = Math.max(6, inner - 2 - 6 - 7 - 7 - 6);
  const sel = Math.max(0, processes.findIndex((p) => p.pid === selectedPid));
  const first = Math.max(0, Math.min(sel - Math.floor(rows / 2), processes.length - rows));
  const shown = processes.slice(first, first + rows);
  const header = `  ${'pid'.padStart(5)} ${fit('name', nameW)}${'pages'.padStart(7)}${'merged'.padStart(7)}${'cow'.padStart(6)}`;
  return (
    <Panel title={`Processes · ${processes.length} live · ${hint}`} width={width} height={height} color="magenta">
      <Text dimColor>{fit(header, inner)}</Text>
      {processes.length === 0 ? <Text dimColor>no live process</Text> : null}
      {shown.map((p) => {
        const selected = p.pid === selectedPid;
        return (
          <Box key={p.pid}>
            <Text color={selected ? 'magenta' : undefined} bold={selected} inverse={selected}>
              {fit(
                `${selected ? '▶' : ' '} ${String(p.pid).padStart(5)} ${fit(p.name, nameW)}${count(p.registeredPages).padStart(7)}${count(p.mergedPages).padStart(7)}${count(p.cowBreaks).padStart(6)}`,
                inner,
              )}
            </Text>
          </Box>
        );
      })}
    </Panel>
  );
}
