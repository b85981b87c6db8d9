/** A bordered panel whose title sits in its top border. */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { fit } from '../format.js';

export interface PanelProps {
  title: string;
  width: number;
  height: number;
  color?: string;
  children?: ReactNode;
}

export function Panel({ title, width, height, color = 'blue', children }: PanelProps) {
  const inner = Math.max(0, width - 2);
  const label = title.length + 2 <= inner - 1 ? ` ${title} ` : ` ${fit(title, Math.max(1, inner - 3))} `;
  const rule = '─'.repeat(Math.max(0, inner - 1 - label.length));
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      <Text color={color}>
        {'┌─'}
        <Text bold color="white">
          {label}
        </Text>
        {rule}
        {'┐'}
      </Text>
      <Box
        flexDirection="column"
        borderStyle="single"
        borderTop={false}
        borderColor={color}
        width={width}
        height={height - 1}
        overflow="hidden"
      >
        {children}
      </Box>
    </Box>
  );
}
