/** The call log: every control as the era's program issued it, newest last. */
import { Text } from 'ink';
import { fit, seconds } from '../format.js';
import type { LogLine } from '../model.js';
import { Panel } from './panel.js';

export interface LogProps {
  width: number;
  height: number;
  lines: readonly LogLine[];
  /** Put the virtual time in front of each line. */
  times: boolean;
  era: string;
}

export function LogPanel({ width, height, lines, times, era }: LogProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 2);
  const shown = lines.slice(-rows);
  return (
    <Panel title={`Calls · as a ${era} program issues them`} width={width} height={height} color="yellow">
      {shown.map((l, i) => {
        const last = i === shown.length - 1;
        const text = times ? `${seconds(l.at).padStart(10)}  ${l.text}` : l.text;
        return (
          <Text key={lines.length - shown.length + i} color={!l.ok ? 'red' : l.note ? 'gray' : undefined} bold={last && !l.note}>
            {fit(text, inner)}
          </Text>
        );
      })}
    </Panel>
  );
}
