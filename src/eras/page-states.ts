/**
 * The states of a registered page as the memory map shows them, the same
 * five in every era; each era's adapter tells the tracked ones apart from
 * its merger's items (`markTracked`).
 */

/** Not present (never touched, or unmapped). */
export const PAGE_ABSENT = 0;
/** Present, but the scanner has not met it yet (no tracking item). */
export const PAGE_UNSCANNED = 1;
/** Tracked by the scanner, but changing or not yet stable enough to be in a tree. */
export const PAGE_VOLATILE = 2;
/** In the unstable tree (2.6.32: an rmap_item with NODE_FLAG and no STABLE_FLAG). */
export const PAGE_UNSTABLE = 3;
/** Mapped to a KSM page. */
export const PAGE_MERGED = 4;
export type PageState = 0 | 1 | 2 | 3 | 4;

/** How the memory map names a state: in full, and short for narrow legends. */
export interface StateLabel {
  long: string;
  short: string;
}

/** The labels of the tree mergers' states, by PAGE_* value. */
export const PAGE_STATE_LABELS: readonly StateLabel[] = [
  { long: 'not present', short: 'absent' },
  { long: 'not yet scanned', short: 'unscanned' },
  { long: 'volatile', short: 'volatile' },
  { long: 'in the unstable tree', short: 'unstable' },
  { long: 'merged into a KSM page', short: 'merged' },
];

/** A registered range of a process and where its pages start in a page-state array. */
export interface StateRange {
  start: number;
  end: number;
  /** Index in the output of the page at `start`. */
  offset: number;
}
