/** The help overlay: the key table, as the input handler uses it. */
import { Box, Text } from 'ink';
import wrapAnsi from 'wrap-ansi';
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
  const textW = Math.max(1, colW - keysW - 1);
  // Two columns: the first takes as many keys as fit with their descriptions whole, the second the rest.
  const rowsOf = (b: (typeof table)[number]) => wrapAnsi(b.help, textW, { hard: true }).split('\n').length;
  let split = perCol;
  if (columns === 2) {
    let used = 0;
    split = 0;
    while (split < table.length && used + rowsOf(table[split]) <= rows) used += rowsOf(table[split++]);
    split = Math.max(perCol, Math.min(split, table.length - 1));
  }
  const cols = columns === 1 ? [table] : [table.slice(0, split), table.slice(split)];
  return (
    <Panel title="Keys · ? or esc closes this help" width={width} height={height} color="white">
      <Box>
        {cols.map((col, c) => {
          // A description too long for its column wraps while the column has rows to spare, else it is cut.
          let spare = rows - col.length;
          const texts = col.map((b) => {
            const help = unavailable.includes(b.command) ? `(attached: unavailable) ${b.help}` : b.help;
            const wrapped = wrapAnsi(help, textW, { hard: true }).split('\n');
            if (wrapped.length > 1 && wrapped.length - 1 <= spare) {
              spare -= wrapped.length - 1;
              return wrapped;
            }
            return [fit(help, textW)];
          });
          return (
            <Box key={c} flexDirection="column" width={colW}>
              {col.map((b, i) =>
                texts[i].map((line, j) => (
                  <Text key={`${b.command}.${j}`} wrap="truncate-end">
                    <Text bold color="yellow">
                      {fit(j === 0 ? b.keys.map(showKey).join(' ') : '', keysW)}
                    </Text>
                    {unavailable.includes(b.command) ? <Text dimColor>{line}</Text> : line}
                  </Text>
                )),
              )}
            </Box>
          );
        })}
      </Box>
    </Panel>
  );
}
