/** Plain aligned text tables for the terminal. */

const GAP = '  ';

/** Each column's width: its widest cell. */
function columnWidths(cells: ReadonlyArray<ReadonlyArray<string>>, n: number): number[] {
  // A loop, not Math.max(...column): a run can have a million snapshot rows, past the argument limit.
  const widths = Array<number>(n).fill(0);
  for (const r of cells) for (let c = 0; c < n; c++) widths[c] = Math.max(widths[c], (r[c] ?? '').length);
  return widths;
}

export function formatTable(header: string[], rows: Array<Array<string | number>>, alignRight: boolean[] = []): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = columnWidths(cells, header.length);
  return cells
    .map((r) =>
      r
        .map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join(GAP)
        .trimEnd(),
    )
    .join('\n');
}

/** Cuts a cell to `width` characters, the last one an ellipsis. */
const cut = (s: string, width: number) => (s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`);

/**
 * A table no wider than `width` (an 80-column terminal, say): as
 * formatTable when it fits; else paged by columns, the first (key) column
 * repeated on every page and the others shared out evenly among as few
 * pages as fit, one blank line between pages. A key column too wide for even
 * one other column beside it is cut with an ellipsis. Any number of columns;
 * `width` Infinity never pages.
 */
export function formatTableFit(header: string[], rows: Array<Array<string | number>>, alignRight: boolean[] = [], width = Infinity): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = columnWidths(cells, header.length);
  const total = widths.reduce((a, b) => a + b, 0) + GAP.length * Math.max(0, widths.length - 1);
  if (total <= width || widths.length <= 1) return formatTable(header, rows, alignRight);
  const others = widths.slice(1);
  // The fewest pages whose columns, shared out evenly in order, fit beside the key column.
  const pagesOf = (count: number, keyW: number): number[][] | null => {
    const per = Math.ceil(others.length / count);
    const pages: number[][] = [];
    for (let i = 0; i < others.length; i += per) {
      const cols = Array.from({ length: Math.min(per, others.length - i) }, (_, j) => i + j + 1);
      const w = keyW + cols.reduce((a, c) => a + GAP.length + widths[c], 0);
      if (w > width) return null;
      pages.push(cols);
    }
    return pages;
  };
  let keyW = widths[0];
  let pages: number[][] | null = null;
  for (let count = 2; count <= others.length && pages === null; count++) pages = pagesOf(count, keyW);
  if (pages === null) {
    // One column a page and still too wide: the key column gives way.
    keyW = Math.max(1, width - GAP.length - Math.max(...others));
    pages = others.map((_, i) => [i + 1]);
  }
  return pages
    .map((cols) => {
      const pick = (r: string[]) => [cut(r[0] ?? '', keyW), ...cols.map((c) => r[c] ?? '')];
      return formatTable(pick(header), rows.map((r) => pick(r.map(String))), [alignRight[0] ?? false, ...cols.map((c) => alignRight[c] ?? false)]);
    })
    .join('\n\n');
}
