/** The header (what runs, virtual time, speed) and the footer (the main keys). */
import { Box, Text } from 'ink';
import type { KsmdState } from '../../session/session.js';
import { fit, seconds, speed } from '../format.js';
import { type Command, KEY_TABLE, showKey } from '../keys.js';

export interface HeaderProps {
  width: number;
  era: string;
  workload: string;
  now: number;
  speedFactor: number;
  paused: boolean;
  lagging: boolean;
  ksmd: KsmdState;
  autoChurn: boolean;
  churns: boolean;
}

export function Header({ width, era, workload, now, speedFactor, paused, lagging, ksmd, autoChurn, churns }: HeaderProps) {
  const left = ` ksmctl · ${era} · ${workload} · t ${seconds(now)} · ${speed(speedFactor)}${lagging ? ' (lagging)' : ''}`;
  const churn = churns ? ` · churn ${autoChurn ? 'on' : 'off'}` : '';
  const state = paused ? ' PAUSED ' : ` ${ksmd} `;
  const room = Math.max(0, width - state.length);
  return (
    <Box width={width}>
      <Text inverse bold>
        {fit(left + churn, room)}
      </Text>
      <Text inverse bold color={paused ? 'yellow' : ksmd === 'stopped' ? 'red' : 'green'}>
        {state}
      </Text>
    </Box>
  );
}

/** The footer's commands in order of importance; a pair shares one hint (`+/- pages`). */
const FOOTER: Array<[Command, Command?]> = [
  ['help'],
  ['quit'],
  ['startStop'],
  ['pagesUp', 'pagesDown'],
  ['sleepDown', 'sleepUp'],
  ['pause'],
  ['step'],
  ['slower', 'faster'],
  ['era'],
  ['churn'],
  ['exitProcess'],
  ['spawnGuest'],
  ['unmerge'],
];

/** "? help  q quit  s start/stop  +/- pages ...", the keys taken from the key table. */
export function footerText(): string {
  const binding = (c: Command) => KEY_TABLE.find((b) => b.command === c)!;
  return FOOTER.map(([a, b]) => {
    const first = binding(a);
    const keys = b === undefined ? showKey(first.keys[0]) : `${showKey(first.keys[0])}/${showKey(binding(b).keys[0])}`;
    return `${keys} ${first.hint ?? binding(b!).hint}`;
  }).join('  ');
}

export function Footer({ width }: { width: number }) {
  return (
    <Text dimColor wrap="truncate-end">
      {fit(` ${footerText()}`, width)}
    </Text>
  );
}
