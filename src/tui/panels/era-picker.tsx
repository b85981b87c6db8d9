/** The era switch: the same workload restarted under another era. */
import { Text } from 'ink';
import { fit } from '../format.js';
import { Panel } from './panel.js';

/** What the picker shows of an era (a registry entry). */
export interface PickerEra {
  id: string;
  label: string;
  title: string;
}

export interface EraPickerProps {
  width: number;
  height: number;
  eras: readonly PickerEra[];
  current: string;
  highlighted: number;
  workload: string;
}

export function EraPicker({ width, height, eras, current, highlighted, workload }: EraPickerProps) {
  const inner = width - 2;
  return (
    <Panel title={`Restart ${workload} under another era`} width={width} height={height} color="white">
      {eras.map((e, i) => (
        <Text key={e.id} inverse={i === highlighted} bold={e.id === current}>
          {fit(`${i + 1}  ${e.label.padEnd(10)} ${e.id === current ? '(running) ' : ''}${e.title}`, inner)}
        </Text>
      ))}
      <Text> </Text>
      <Text dimColor>{fit(`1-${eras.length} or ↑/↓ and enter: restart · esc: cancel`, inner)}</Text>
    </Panel>
  );
}
