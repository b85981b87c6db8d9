/**
 * The call log: every control as the era's program issued it, newest last.
 * A call longer than the pane wraps (continuation lines indented), so the
 * exact call is always on screen whole.
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

/** Breaks text into rows of at most `width` characters, after a space where one is near the end; continuations are indented. */
export function wrapCall(text: string, width: number, indent = 4): string[] {
  const rows: string[] = [];
  let rest = text;
  let w = width;
  while (rest.length > w && w > indent) {
    let cut = rest.lastIndexOf(' ', w);
    if (cut < w / 2) cut = w;
    rows.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
    w = width - indent;
  }
  rows.push(rest);
  return rows.map((r, i) => (i === 0 ? r : ' '.repeat(indent) + r));
}

export function LogPanel({ width, height, lines, times, era, title }: LogProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 2);
  const shown: Array<{ key: string; text: string; line: LogLine; last: boolean }> = [];
  for (let i = lines.length - 1; i >= 0 && shown.length < rows; i--) {
    const l = lines[i];
    const text = times ? `${seconds(l.at).padStart(10)}  ${l.text}` : l.text;
    const parts = wrapCall(text, inner, times ? 14 : 4);
    for (let j = parts.length - 1; j >= 0 && shown.length < rows; j--) {
      shown.unshift({ key: `${i}.${j}`, text: parts[j], line: l, last: i === lines.length - 1 });
    }
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
