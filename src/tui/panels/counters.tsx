/** The era's counters with their history, the scan and merge rates, and ksmd's state and knobs. */
import { Box, Text } from 'ink';
import type { Knobs, KsmdState } from '../../session/session.js';
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
  scanRate: number;
  mergeRate: number;
  ksmd: KsmdState;
  knobs: Knobs;
  paused: boolean;
}

const STATE_COLOR: Record<KsmdState, string> = { sleeping: 'green', waiting: 'yellow', stopped: 'red' };

export function CountersPanel({ width, height, era, counters, scanRate, mergeRate, ksmd, knobs, paused }: CountersProps) {
  const inner = width - 2;
  const nameW = Math.max(...counters.map((c) => c.name.length + (c.exposed ? 0 : 1)), 4);
  const valueW = 8;
  const sparkW = Math.max(0, inner - nameW - valueW - 2);
  const derived = counters.some((c) => !c.exposed);
  const sleep = knobs.sleepMicros % 1000 === 0 ? `${knobs.sleepMicros / 1000} ms` : `${knobs.sleepMicros} µs`;
  return (
    <Panel title={`Counters · ${era}`} width={width} height={height}>
      {counters.map((c) => (
        <Box key={c.name}>
          <Text>{fit(c.exposed ? c.name : `${c.name}*`, nameW)}</Text>
          <Text bold>{count(c.value).padStart(valueW)}</Text>
          <Text> </Text>
          <Text color="cyan">{sparkline(c.history, sparkW)}</Text>
        </Box>
      ))}
      <Text wrap="truncate-end">
        scan <Text bold>{rate(scanRate)}</Text> pages/s · merge <Text bold>{rate(mergeRate)}</Text>/s
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
    </Panel>
  );
}
