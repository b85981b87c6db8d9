/**
 * The memory map's states from the 2009 tree merger (v2, and v1 with the
 * March 2009 ABI): its rmap_items are found through the merger's rmap hash,
 * one look-up per page. An item inserted into the current unstable tree (a
 * tree_item of this generation) is unstable; any other item of a page not
 * merged is volatile (a holder, or a node of a flushed tree).
 */
import { PAGE_SIZE } from '../engine/constants.js';
import type { Mm } from '../engine/memory/mm.js';
import type { Tree2009 } from '../engine/merge/tree-2009.js';
import type { StateRange } from './page-states.js';
import { PAGE_ABSENT, PAGE_MERGED, PAGE_UNSTABLE, PAGE_VOLATILE } from './page-states.js';

export function markTree2009(tree: Tree2009, mm: Mm, ranges: StateRange[], out: Uint8Array): void {
  const { items, trees } = tree;
  for (const r of ranges) {
    for (let addr = r.start, k = r.offset; addr < r.end; addr += PAGE_SIZE, k++) {
      const s = out[k];
      if (s === PAGE_MERGED || s === PAGE_ABSENT) continue;
      const item = tree.getRmapItem(mm, addr);
      if (!item) continue;
      const t = items.treeItem[item];
      out[k] = !items.stableTree[item] && t && trees.gen[t] === tree.unstableGen ? PAGE_UNSTABLE : PAGE_VOLATILE;
    }
  }
}
