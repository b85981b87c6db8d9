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
  /** Attached to a ksmctl host: its socket and clock (in place of the workload); gone once it stopped answering. */
  attached?: { socket: string; clock: 'real' | 'manual'; gone?: boolean };
}

/** A path cut in the middle to `width` characters (its end, the file name, kept). */
export function elidePath(path: string, width: number): string {
  if (path.length <= width) return path;
  if (width <= 1) return '…';
  const tail = Math.min(path.length - 1, Math.max(Math.ceil((width - 1) * 0.6), width - 1 - 8));
  return `${path.slice(0, width - 1 - tail)}…${path.slice(path.length - tail)}`;
}

export function Header({ width, era, workload, now, speedFactor, paused, lagging, ksmd, autoChurn, churns, attached }: HeaderProps) {
  const state = attached?.gone ? ' HOST GONE ' : paused ? ' PAUSED ' : ` ${ksmd} `;
  const room = Math.max(0, width - state.length);
  let left: string;
  if (attached === undefined) {
    left = ` ksmctl · ${era} · ${workload} · t ${seconds(now)} · ${speed(speedFactor)}${lagging ? ' (lagging)' : ''}`;
  } else {
    // The socket whole if it fits: the name of the program goes first, then the separators; then the path's middle.
    const lag = lagging ? ' (lagging)' : '';
    const clock = attached.clock === 'real' ? 'real clock' : `manual clock ${speed(speedFactor)}${lag}`;
    const short = attached.clock === 'real' ? 'real clock' : `manual ${speed(speedFactor)}${lag}`;
    const variants: Array<[string, string]> = [
      [` ksmctl · ${era} · attached to host `, ` · t ${seconds(now)} · ${clock}`],
      [` ${era} · attached to host `, ` · t ${seconds(now)} · ${clock}`],
      [` ${era} · attached to host `, ` · ${seconds(now)} ${short}`],
      [` ${era} · attached to host `, ` · ${seconds(now)}${attached.clock === 'real' ? '' : ` ${speed(speedFactor)}${lag}`}`],
    ];
    const fits = variants.find(([head, tail]) => head.length + attached.socket.length + tail.length <= room);
    const [head, tail] = fits ?? variants[variants.length - 1];
    left = head + elidePath(attached.socket, Math.max(12, room - head.length - tail.length)) + tail;
  }
  const churn = churns ? ` · churn ${autoChurn ? 'on' : 'off'}` : '';
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
  ['autoChurn'],
  ['exitProcess'],
  ['spawnGuest'],
  ['unmerge'],
];

/** What `?` reads in a footer that could not show every key. */
export const MORE_KEYS = 'all keys';

/**
 * "? help  q quit  s start/stop  +/- pages ...", the keys taken from the key
 * table, whole entries only: when they do not all fit in `width`, the first
 * says `? all keys` (the help overlay lists every one) and those that fit follow.
 */
export function footerText(omit: readonly Command[] = [], width = Infinity): string {
  const binding = (c: Command) => KEY_TABLE.find((b) => b.command === c)!;
  const entries = FOOTER.filter(([a]) => !omit.includes(a)).map(([a, b]) => {
    const first = binding(a);
    const keys = b === undefined ? showKey(first.keys[0]) : `${showKey(first.keys[0])}/${showKey(binding(b).keys[0])}`;
    return `${keys} ${first.hint ?? binding(b!).hint}`;
  });
  const all = entries.join('  ');
  if (all.length <= width) return all;
  let text = `${showKey(binding('help').keys[0])} ${MORE_KEYS}`;
  for (const e of entries.slice(1)) {
    if (text.length + 2 + e.length > width) break;
    text += `  ${e}`;
  }
  return text;
}

/** `omit`: commands not available here (attached to a host, or a file the era lacks), left out. */
export function Footer({ width, omit }: { width: number; omit?: readonly Command[] }) {
  return (
    <Text dimColor wrap="truncate-end">
      {fit(` ${footerText(omit, width - 1)}`, width)}
    </Text>
  );
}
