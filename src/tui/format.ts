/** Text helpers of the TUI: numbers, sparklines, fitting text into a width. */

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of the last `width` values, scaled from their own minimum to
 * their maximum: one block character per value. Each counter is scaled to
 * its window, so one that creeps from 5,000 to 5,040 shows its climb
 * rather than a solid bar; a window that never changes is a flat lowest bar.
 */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const v = values.slice(-width);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const span = hi - lo;
  let s = '';
  for (const x of v) s += span === 0 ? BLOCKS[0] : BLOCKS[Math.min(7, Math.floor(((x - lo) / span) * 7.999))];
  return s.padEnd(width, ' ');
}

/** 1234 → "1234", 123456 → "123.5k", 2500000 → "2.5M". */
export function count(n: number): string {
  const a = Math.abs(n);
  if (a < 100_000) return String(Math.round(n));
  if (a < 10_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A rate per second with one significant decimal for small values. */
export function rate(n: number): string {
  if (n < 10) return n.toFixed(1);
  return count(n);
}

/** Virtual time in seconds, µs in. */
export function seconds(micros: number): string {
  const s = micros / 1e6;
  return s < 100 ? `${s.toFixed(3)}s` : s < 10_000 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`;
}

export function speed(x: number): string {
  return `×${x}`;
}

/** Cuts text to width with an ellipsis, or pads it. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text.padEnd(width);
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** Bytes as the kernel's profit figures are read: 2797568 → "2.7M", -49152 → "-48K", 512 → "512B". */
export function bytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  let a = Math.abs(n);
  for (const unit of ['B', 'K', 'M', 'G']) {
    if (a < 1024 || unit === 'G') {
      const text = unit === 'B' || a >= 10 ? String(Math.round(a)) : a.toFixed(1);
      return `${sign}${text}${unit}`;
    }
    a /= 1024;
  }
  return `${n}B`;
}
