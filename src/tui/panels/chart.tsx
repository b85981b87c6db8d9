/** Pages saved over virtual time, as a line chart (asciichart). */
import asciichart from 'asciichart';
import { Box, Text } from 'ink';
import { count, seconds } from '../format.js';
import { Panel } from './panel.js';

export interface ChartProps {
  width: number;
  height: number;
  /** (virtual time µs, pages saved), in time order. */
  points: ReadonlyArray<{ t: number; v: number }>;
}

const LABEL = 7;

/** The value at the end of each of `columns` equal slices of the time span (the last known value). */
export function resample(points: ReadonlyArray<{ t: number; v: number }>, columns: number): number[] {
  if (points.length === 0 || columns <= 0) return [];
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  if (t1 === t0) return Array(Math.min(columns, points.length)).fill(points[points.length - 1].v);
  const out: number[] = [];
  let j = 0;
  for (let c = 1; c <= columns; c++) {
    const end = t0 + ((t1 - t0) * c) / columns;
    while (j + 1 < points.length && points[j + 1].t <= end) j++;
    out.push(points[j].v);
  }
  return out;
}

export function ChartPanel({ width, height, points }: ChartProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 3);
  const columns = Math.max(1, inner - LABEL - 2);
  const series = resample(points, columns);
  const max = Math.max(1, ...series);
  const plot =
    series.length > 0
      ? asciichart.plot(series, {
          height: Math.max(1, rows - 1),
          min: 0,
          max,
          format: (x: number) => count(x).padStart(LABEL),
        })
      : '';
  const from = points.length ? seconds(points[0].t) : '';
  const to = points.length ? seconds(points[points.length - 1].t) : '';
  const axis = `${' '.repeat(LABEL + 2)}${from}`;
  const now = points.length ? points[points.length - 1].v : 0;
  return (
    <Panel title={inner >= 50 ? `Pages saved over virtual time · now ${count(now)}` : `Pages saved · now ${count(now)}`} width={width} height={height} color="green">
      <Box flexDirection="column" height={rows}>
        {plot.split('\n').slice(0, rows).map((line, i) => (
          <Text key={i} color="green" wrap="truncate-end">
            {line}
          </Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate-end">
        {axis.padEnd(Math.max(axis.length + 1, inner - to.length))}
        {to}
      </Text>
    </Panel>
  );
}
