/**
 * Panel sizes for a terminal of columns × rows. The screen is one line
 * shorter than the terminal: a frame as tall as the terminal makes ink
 * clear the whole screen on every render (flicker).
 *
 * An era with files of its own (6.18's general_profit and knobs, 3.9's
 * merge_across_nodes and nodes) shows them as rows under the counters; when
 * they leave the pages-saved chart less than CHART_MIN rows, the chart is
 * dropped and the counters panel takes the whole column (at 80×24 under
 * 6.18), showing the files that fit.
 */
export interface Layout {
  width: number;
  height: number;
  leftWidth: number;
  rightWidth: number;
  /** Rows between the header and the footer. */
  bodyHeight: number;
  mainHeight: number;
  countersHeight: number;
  /** 0: no chart (the era's files took its room). */
  chartHeight: number;
  processesHeight: number;
  mapHeight: number;
  logHeight: number;
  /** Wide enough to put the virtual time in front of each log line. */
  logTimes: boolean;
}

export interface LayoutExtras {
  /** Rows the era's files and nodes want under the counters. */
  fileRows?: number;
  /** Lines the processes panel wants beside its rows (the selected process's ksm_stat, when it has no columns for it). */
  processLines?: number;
}

/** The least chart worth showing: its title, a plot row or two, its axis. */
export const CHART_MIN = 5;

export function layout(columns: number, rows: number, counters: number, processes: number, extras: LayoutExtras = {}): Layout {
  // The least the app lays out (smaller, it says so instead): 80×24.
  const width = Math.max(80, columns);
  const height = Math.max(23, rows - 1);
  const bodyHeight = height - 2;
  const logHeight = height >= 40 ? 10 : height >= 30 ? 7 : 5;
  const mainHeight = bodyHeight - logHeight;
  const leftWidth = Math.floor(width / 2);
  const fileRows = extras.fileRows ?? 0;
  let countersHeight = Math.min(mainHeight - CHART_MIN, counters + 4);
  if (fileRows > 0) {
    const want = counters + 4 + fileRows;
    countersHeight = want <= mainHeight - CHART_MIN ? want : mainHeight;
  }
  const maxRows = height >= 40 ? 12 : height >= 30 ? 6 : 4;
  const processesHeight = Math.min(mainHeight - 5, 3 + Math.max(2, Math.min(processes, maxRows)) + (extras.processLines ?? 0));
  return {
    width,
    height,
    leftWidth,
    rightWidth: width - leftWidth,
    bodyHeight,
    mainHeight,
    countersHeight,
    chartHeight: mainHeight - countersHeight,
    processesHeight,
    mapHeight: mainHeight - processesHeight,
    logHeight,
    logTimes: width >= 120,
  };
}
