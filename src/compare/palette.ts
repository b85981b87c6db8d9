/**
 * One colour per era, the same wherever a comparison is drawn: the
 * terminal chart and every chart of the HTML report (a colour never means a
 * metric). Configurations of one era (its own checksum and swapped ones)
 * share its colour and are told apart by line style and point shape, which
 * also tell apart lines that lie on top of each other.
 */
import asciichart from 'asciichart';
import { ERA_IDS } from '../eras/registry.js';

export interface EraColor {
  /** For the HTML report. */
  hex: string;
  /** For the terminal: an asciichart (ANSI) colour. */
  ansi: string;
}

const BY_ERA: Record<(typeof ERA_IDS)[number], EraColor> = {
  'v1:2008': { hex: '#1f77b4', ansi: asciichart.blue },
  'v1:2009': { hex: '#d62728', ansi: asciichart.red },
  v2: { hex: '#2ca02c', ansi: asciichart.green },
  'v3:2.6.32': { hex: '#ff7f0e', ansi: asciichart.yellow },
  'v3:3.9': { hex: '#9467bd', ansi: asciichart.magenta },
  'v3:6.18': { hex: '#17becf', ansi: asciichart.cyan },
};
const OTHER: EraColor = { hex: '#7f7f7f', ansi: asciichart.lightgray };

export function eraColor(era: string): EraColor {
  return (BY_ERA as Record<string, EraColor>)[era] ?? OTHER;
}

/** Line dashes (Chart.js borderDash) and point shapes, by a configuration's place among those of its era. */
export const DASHES: ReadonlyArray<number[]> = [[], [8, 4], [2, 3], [12, 3, 2, 3]];
export const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star'] as const;
