/** The help overlay: the key table, as the input handler uses it. */
import { Box, Text } from 'ink';
import { fit } from '../format.js';
import { type Command, KEY_TABLE, showKey } from '../keys.js';
import { Panel } from './panel.js';

/** `unavailable`: commands that do nothing here (attached to a host), marked as such. */
export function HelpPanel({ width, height, unavailable = [] }: { width: number; height: number; unavailable?: readonly Command[] }) {
  const inner = width - 2;
  const rows = Math.max(1, height - 2);
  const keysW = 12;
  const columns = KEY_TABLE.length > rows ? 2 : 1;
  const colW = Math.floor(inner / columns);
  const perCol = Math.ceil(KEY_TABLE.length / columns);
  const cols = Array.from({ length: columns }, (_, c) => KEY_TABLE.slice(c * perCol, (c + 1) * perCol));
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
