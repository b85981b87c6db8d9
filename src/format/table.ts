/** Plain aligned text tables for the terminal. */
export function formatTable(header: string[], rows: Array<Array<string | number>>, alignRight: boolean[] = []): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  // A loop, not Math.max(...column): a run can have a million snapshot rows, past the argument limit.
  const widths = header.map(() => 0);
  for (const r of cells) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], (r[c] ?? '').length);
  return cells
    .map((r) =>
      r
        .map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
