/**
 * The call log: every control as the era's program issued it, newest last,
 * one line per call (a call longer than the pane is cut with an ellipsis,
 * so as many calls as rows are on screen; the result, ` = 0`, is kept).
 */
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
  /** In place of the era's title (attached: the host's trace). */
  title?: string;
}

/** A call in one line of `width`: cut in its middle with an ellipsis when longer, its result (` = 0`, ` = -1 EINVAL`, `  (write error: ...)`) kept. */
export function oneLine(text: string, width: number): string {
  if (text.length <= width) return text;
  const result = / = [^=]*$| {2}\([^()]*\)$/.exec(text)?.[0] ?? '';
  if (result.length === 0 || result.length > width - 20) return fit(text, width);
  return `${text.slice(0, width - result.length - 1)}…${result}`;
}

export function LogPanel({ width, height, lines, times, era, title }: LogProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 2);
  const shown: Array<{ key: string; text: string; line: LogLine; last: boolean }> = [];
  for (let i = Math.max(0, lines.length - rows); i < lines.length; i++) {
    const l = lines[i];
    shown.push({ key: String(i), text: oneLine(times ? `${seconds(l.at).padStart(10)}  ${l.text}` : l.text, inner), line: l, last: i === lines.length - 1 });
  }
  return (
    <Panel title={title ?? `Calls · as a ${era} program issues them`} width={width} height={height} color="yellow">
      {shown.map(({ key, text, line, last }) => (
        <Text key={key} color={!line.ok ? 'red' : line.note ? 'gray' : undefined} bold={last && !line.note}>
          {fit(text, inner)}
        </Text>
      ))}
    </Panel>
  );
}
