/** The help overlay: the key table, as the input handler uses it. */
import { Box, Text } from 'ink';
import { fit } from '../format.js';
import { type Command, KEY_TABLE, showKey } from '../keys.js';
import { Panel } from './panel.js';

export interface HelpProps {
  width: number;
  height: number;
  /** Commands that do nothing here (attached to a host), marked as such. */
  unavailable?: readonly Command[];
  /** Commands left out: keys of files the era does not have. */
  omit?: readonly Command[];
}

export function HelpPanel({ width, height, unavailable = [], omit = [] }: HelpProps) {
  const inner = width - 2;
  const rows = Math.max(1, height - 2);
  const table = KEY_TABLE.filter((b) => !omit.includes(b.command));
  const columns = table.length > rows ? 2 : 1;
  const colW = Math.floor(inner / columns);
  // Two columns share the width: the keys take only what the longest needs.
  const keysW = columns === 1 ? 12 : Math.max(...table.map((b) => b.keys.map(showKey).join(' ').length)) + 1;
  const perCol = Math.ceil(table.length / columns);
  const cols = Array.from({ length: columns }, (_, c) => table.slice(c * perCol, (c + 1) * perCol));
  return (
    <Panel title="Keys · ? or esc closes this help" width={width} height={height} color="white">
      <Box>
        {cols.map((col, c) => (
          <Box key={c} flexDirection="column" width={colW}>
            {col.map((b) => (
              <Text key={b.command} wrap="truncate-end">
                <Text bold color="yellow">
                  {fit(b.keys.map(showKey).join(' '), keysW)}
                </Text>
                {unavailable.includes(b.command) ? <Text dimColor>{fit(`(attached: unavailable) ${b.help}`, colW - keysW - 1)}</Text> : fit(b.help, colW - keysW - 1)}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Panel>
  );
}
