/**
 * The merger's per-page tracking items, what 6.18's general_profit charges
 * for (ksm_rmap_items x sizeof(struct ksm_rmap_item)): rmap_items in the
 * mainline and 2009 mergers, hash entries in the 2008 one. A switch over the
 * merger's algorithm, as compare/probe.ts reads it.
 */
import type { AnyMerger } from '../engine/merge/merger.js';

export function rmapItems(m: AnyMerger): number {
  switch (m.algorithm) {
    case 'mainline-2632':
    case 'mainline-39':
    case 'mainline-618':
      return m.rmapItems;
    case 'tree-2009':
      return m.rmapItemCount;
    case 'hash-2008':
      return m.hashEntryCount;
  }
}
