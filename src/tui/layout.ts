/**
 * Panel sizes for a terminal of columns × rows. The screen is one line
 * shorter than the terminal: a frame as tall as the terminal makes ink
 * clear the whole screen on every render (flicker).
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
  chartHeight: number;
  processesHeight: number;
  mapHeight: number;
  logHeight: number;
  /** Wide enough to put the virtual time in front of each log line. */
  logTimes: boolean;
}

export function layout(columns: number, rows: number, counters: number, processes: number): Layout {
  const width = Math.max(60, columns);
  const height = Math.max(15, rows - 1);
  const bodyHeight = height - 2;
  const logHeight = height >= 40 ? 10 : height >= 30 ? 7 : 5;
  const mainHeight = bodyHeight - logHeight;
  const leftWidth = Math.floor(width / 2);
  const countersHeight = Math.min(mainHeight - 5, counters + 4);
  const maxRows = height >= 40 ? 12 : height >= 30 ? 6 : 4;
  const processesHeight = Math.min(mainHeight - 5, 3 + Math.max(2, Math.min(processes, maxRows)));
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
