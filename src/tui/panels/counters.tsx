/**
 * The era's counters with their history, the scan and merge rates, ksmd's
 * state and knobs, and under them the era's own files (6.18's
 * general_profit, ksm_zero_pages, chains and knobs; 3.9's
 * merge_across_nodes and its nodes) as many as fit.
 */
import { Box, Text } from 'ink';
import type { Knobs, KsmdState } from '../../session/session.js';
import type { FileRow } from '../era-files.js';
import { count, fit, rate, sparkline } from '../format.js';
import { Panel } from './panel.js';

export interface CounterRow {
  name: string;
  value: number;
  exposed: boolean;
  history: number[];
}

export interface CountersProps {
  width: number;
  height: number;
  era: string;
  counters: CounterRow[];
  /** The era's files, most looked-at first; those that do not fit are left out (and counted in the title). */
  files?: FileRow[];
  scanRate: number;
  mergeRate: number;
  /** ksmd's share of one core by the CPU model (null: no model, the real kernel). */
  cpuShare?: number | null;
  ksmd: KsmdState;
  knobs: Knobs;
  paused: boolean;
}

const STATE_COLOR: Record<KsmdState, string> = { sleeping: 'green', waiting: 'yellow', stopped: 'red' };

export function CountersPanel({ width, height, era, counters, files = [], scanRate, mergeRate, cpuShare = null, ksmd, knobs, paused }: CountersProps) {
  const inner = width - 2;
  // Rows inside the borders: the counters, the rate and ksmd lines, then the files that fit.
  const room = Math.max(0, height - 2 - counters.length - 2);
  const shown = files.slice(0, room);
  // Wide enough for a file's word value (advisor_mode's scan-time).
  const valueW = Math.min(12, Math.max(8, ...shown.map((f) => f.value.length)));
  const hidden = files.length - shown.length;
  const names = [...counters.map((c) => c.name.length + (c.exposed ? 0 : 1)), ...shown.map((f) => f.name.length)];
  const nameW = Math.min(Math.max(...names, 4), Math.max(4, inner - valueW - 10));
  const sparkW = Math.max(0, inner - nameW - valueW - 2);
  const derived = counters.some((c) => !c.exposed);
  const sleep = knobs.sleepMicros % 1000 === 0 ? `${knobs.sleepMicros / 1000} ms` : `${knobs.sleepMicros} µs`;
  // The legend of `*` stays whole: the scan rate's unit gets shorter first.
  const rateLine = (unit: string) => `scan ${rate(scanRate)}${unit} · merge ${rate(mergeRate)}/s${derived ? ' · * derived' : ''}`;
  const scanUnit = rateLine(' pages/s').length <= inner ? ' pages/s' : '/s';
  const title = `Counters · ${era}${hidden > 0 ? ` · ${hidden} more files` : ''}`;
  return (
    <Panel title={title} width={width} height={height}>
      {counters.map((c) => (
        <Box key={c.name}>
          <Text>{fit(c.exposed ? c.name : `${c.name}*`, nameW)}</Text>
          <Text bold>{count(c.value).padStart(valueW)}</Text>
          <Text> </Text>
          <Text color="cyan">{sparkline(c.history, sparkW)}</Text>
        </Box>
      ))}
      <Text wrap="truncate-end">
        scan <Text bold>{rate(scanRate)}</Text>
        {scanUnit} · merge <Text bold>{rate(mergeRate)}</Text>/s
        {cpuShare !== null ? (
          <Text>
            {' '}· ksmd cpu <Text bold>{(cpuShare * 100).toFixed(1)} %</Text>
          </Text>
        ) : null}
        {derived ? <Text dimColor> · * derived</Text> : null}
      </Text>
      {inner >= 48 ? (
        <Text wrap="truncate-end">
          ksmd <Text color={STATE_COLOR[ksmd]}>{ksmd}</Text>
          {paused ? ' (time paused)' : ''} · pages_to_scan <Text bold>{knobs.pagesToScan}</Text> · sleep{' '}
          <Text bold>{sleep}</Text>
        </Text>
      ) : (
        <Text wrap="truncate-end">
          ksmd <Text color={STATE_COLOR[ksmd]}>{ksmd}</Text> · <Text bold>{knobs.pagesToScan}</Text> pages every{' '}
          <Text bold>{sleep}</Text>
        </Text>
      )}
      {shown.map((f) => (
        <Box key={f.name}>
          <Text color="blueBright">{fit(f.name, nameW)}</Text>
          <Text bold>{fit(f.value, valueW).trimEnd().padStart(valueW)}</Text>
          <Text> </Text>
          {f.history !== undefined ? <Text color="cyan">{sparkline(f.history, sparkW)}</Text> : <Text dimColor>{fit(f.note ?? '', sparkW)}</Text>}
        </Box>
      ))}
    </Panel>
  );
}
