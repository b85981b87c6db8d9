/**
 * Per process: registered pages, merged pages and copy-on-write breaks of
 * KSM pages; the selected one is marked. Where the era has
 * /proc/PID/ksm_stat (6.18), its figures too: as columns when the panel is
 * wide enough, else as one line for the selected process.
 */
import { Box, Text } from 'ink';
import type { ProcessInfo } from '../../session/session.js';
import { bytes, count, fit } from '../format.js';
import { Panel } from './panel.js';

export interface ProcessesProps {
  width: number;
  height: number;
  processes: ProcessInfo[];
  selectedPid: number;
  hint: string;
}

/** The ksm_stat columns: header, width, and the figure as shown. */
const STAT_COLUMNS: ReadonlyArray<{ head: string; w: number; show(s: Record<string, string>): string }> = [
  { head: 'merging', w: 8, show: (s) => count(Number(s.ksm_merging_pages ?? 0)) },
  { head: 'profit', w: 8, show: (s) => bytes(Number(s.ksm_process_profit ?? 0)) },
  { head: 'zero', w: 6, show: (s) => count(Number(s.ksm_zero_pages ?? 0)) },
  { head: 'any', w: 4, show: (s) => s.ksm_merge_any ?? '' },
];
const STAT_W = STAT_COLUMNS.reduce((n, c) => n + c.w, 0);
/** The narrowest name column beside the ksm_stat columns. */
const MIN_NAME_W = 10;

/** Whether the panel shows ksm_stat as a line under the rows (not as columns): the layout gives it the line. */
export function statLine(processes: readonly ProcessInfo[], width: number): boolean {
  return processes.some((p) => p.stat !== undefined) && width - 2 - 2 - 6 - 7 - 7 - 6 - STAT_W < MIN_NAME_W;
}

export function ProcessesPanel({ width, height, processes, selectedPid, hint }: ProcessesProps) {
  const inner = width - 2;
  const hasStat = processes.some((p) => p.stat !== undefined);
  const line = statLine(processes, width);
  const columns = hasStat && !line;
  const rows = Math.max(1, height - 3 - (line ? 1 : 0));
  const nameW = Math.max(6, inner - 2 - 6 - 7 - 7 - 6 - (columns ? STAT_W : 0));
  const sel = Math.max(0, processes.findIndex((p) => p.pid === selectedPid));
  const first = Math.max(0, Math.min(sel - Math.floor(rows / 2), processes.length - rows));
  const shown = processes.slice(first, first + rows);
  const statHead = columns ? STAT_COLUMNS.map((c) => c.head.padStart(c.w)).join('') : '';
  const above = first;
  const below = Math.max(0, processes.length - first - shown.length);
  // Hidden rows are marked where they are: ▲ on the column header, ▼ on the last row shown.
  const header = `${above > 0 ? '▲' : ' '} ${'pid'.padStart(5)} ${fit('name', nameW)}${'pages'.padStart(7)}${'merged'.padStart(7)}${'cow'.padStart(6)}${statHead}`;
  const selected = processes.find((p) => p.pid === selectedPid);
  const st = selected?.stat;
  return (
    <Panel title={above + below > 0 ? `Processes · ${first + 1}-${first + shown.length} of ${processes.length} · ${hint}` : `Processes · ${processes.length} live · ${hint}`} width={width} height={height} color="magenta">
      <Text dimColor>{fit(header, inner)}</Text>
      {processes.length === 0 ? <Text dimColor>no live process</Text> : null}
      <Box flexDirection="column" height={rows}>
        {shown.map((p, i) => {
          const isSelected = p.pid === selectedPid;
          const mark = isSelected ? '▶' : below > 0 && i === shown.length - 1 ? '▼' : ' ';
          const stat = columns && p.stat !== undefined ? STAT_COLUMNS.map((c) => c.show(p.stat!).padStart(c.w)).join('') : '';
          return (
            <Box key={p.pid}>
              <Text color={isSelected ? 'magenta' : undefined} bold={isSelected} inverse={isSelected}>
                {fit(
                  `${mark} ${String(p.pid).padStart(5)} ${fit(p.name, nameW)}${count(p.registeredPages).padStart(7)}${count(p.mergedPages).padStart(7)}${count(p.cowBreaks).padStart(6)}${stat}`,
                  inner,
                )}
              </Text>
            </Box>
          );
        })}
      </Box>
      {line && st !== undefined ? (
        // ksm_merging_pages is the merged column already: the line has the rest.
        <Text wrap="truncate-end">
          <Text dimColor>ksm_stat </Text>
          {fit(`profit ${bytes(Number(st.ksm_process_profit ?? 0))} · zero ${count(Number(st.ksm_zero_pages ?? 0))} · any ${st.ksm_merge_any ?? '?'}`, inner - 9)}
        </Text>
      ) : null}
    </Panel>
  );
}
