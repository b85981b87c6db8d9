/**
 * The selected process's registered pages as a grid coloured by state: not
 * yet scanned, volatile, in the unstable tree, merged into a KSM page. When
 * there are more pages than cells, a cell shows the state most of its
 * pages are in.
 */
import { Box, Text } from 'ink';
import { PAGE_ABSENT, PAGE_MERGED, PAGE_STATE_LABELS, PAGE_UNSCANNED, PAGE_UNSTABLE, PAGE_VOLATILE, type StateLabel } from '../../session/session.js';
import { Panel } from './panel.js';

export const STATE_GLYPH = [' ', '·', '░', '▒', '█'] as const;
export const STATE_COLOR = ['gray', 'gray', 'yellow', 'cyan', 'green'] as const;
const LEGEND = [PAGE_UNSCANNED, PAGE_VOLATILE, PAGE_UNSTABLE, PAGE_MERGED];

export interface MemoryMapProps {
  width: number;
  height: number;
  /** The process shown, or undefined when none is selected. */
  name?: string;
  pid?: number;
  states: Uint8Array;
  /** The era's names of the states (its merger's own terms). */
  labels?: readonly StateLabel[];
}

/** The states of `cells` cells covering `states`, `per` pages each: the majority state of each (ties go to the later state). */
export function cellStates(states: Uint8Array, per: number): Uint8Array {
  const cells = Math.ceil(states.length / per);
  const out = new Uint8Array(cells);
  const tally = new Uint32Array(5);
  for (let c = 0; c < cells; c++) {
    tally.fill(0);
    for (let i = c * per, end = Math.min(states.length, i + per); i < end; i++) tally[states[i]]++;
    let best = PAGE_ABSENT;
    for (let s = 1; s < 5; s++) if (tally[s] >= tally[best]) best = s;
    out[c] = best;
  }
  return out;
}

export function MemoryMapPanel({ width, height, name, pid, states, labels = PAGE_STATE_LABELS }: MemoryMapProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 3);
  const per = Math.max(1, Math.ceil(states.length / (inner * rows)));
  const cells = cellStates(states, per);
  const lines: Array<Array<{ s: number; text: string }>> = [];
  for (let r = 0; r * inner < cells.length && r < rows; r++) {
    const segs: Array<{ s: number; text: string }> = [];
    for (let c = r * inner, end = Math.min(cells.length, c + inner); c < end; c++) {
      const s = cells[c];
      const last = segs[segs.length - 1];
      if (last && last.s === s) last.text += STATE_GLYPH[s];
      else segs.push({ s, text: STATE_GLYPH[s] });
    }
    lines.push(segs);
  }
  const long = inner >= 76;
  let title = 'Memory map';
  if (name !== undefined) {
    for (const part of [` · ${name}`, per > 1 ? ` · ${per} pages/cell` : '', ` · ${states.length} pages`, ` · pid ${pid}`]) {
      if (title.length + part.length <= inner - 3) title += part;
    }
  }
  return (
    <Panel title={title} width={width} height={height} color="cyan">
      <Box flexDirection="column" height={rows}>
        {name === undefined ? <Text dimColor>no process selected</Text> : null}
        {lines.map((segs, i) => (
          <Text key={i}>
            {segs.map((g, j) => (
              <Text key={j} color={STATE_COLOR[g.s]}>
                {g.text}
              </Text>
            ))}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate-end">
        {LEGEND.map((s, i) => (
          <Text key={s}>
            {i > 0 ? ' ' : ''}
            <Text color={STATE_COLOR[s]}>{STATE_GLYPH[s]}</Text>
            {long ? ` ${labels[s].long}` : labels[s].short}
          </Text>
        ))}
      </Text>
    </Panel>
  );
}
