/**
 * Work counters of a merger (not kernel counters): what the scanner did,
 * counted where the seed code does the work. Comparisons of algorithms
 * read them, and so does the ksmd CPU model (src/cpu), which prices each
 * kind of work in nanoseconds.
 *
 * Every field is a plain number on one object, bumped in the hot loops
 * (no allocation, no call); `work()` of a merger copies them out with the
 * copy-on-write breaks its memory counted.
 */
export interface MergeStats {
  /** Pages handed to the merge logic by the scanner. */
  pagesScanned: number;
  /** Page checksums (or bucket hashes) computed. */
  checksums: number;
  /** Bytes fed to the checksum or bucket hash. */
  bytesHashed: number;
  /** Page comparisons (memcmp of two pages, or the final identity check). */
  comparisons: number;
  /** Bytes memcmp read (up to and including the first difference). */
  bytesCompared: number;
  /** Calls of try_to_merge_one_page that got as far as write-protecting. */
  mergeAttempts: number;
  /** Successful merges (an address mapped onto a KSM page). */
  merges: number;
  /**
   * Hash-table merger only (0 for the tree mergers): bucket-mates whose
   * recomputed bucket index matched the page's but whose contents differ,
   * so the merge was tried (HMAC-SHA1, memcmp) and could not succeed.
   */
  falseHashMatches: number;
  /**
   * Nodes of the stable tree visited by a search or an insertion (each one
   * a page looked up and compared); the 2008 merger has no tree: 0.
   */
  stableLevels: number;
  /**
   * Nodes of the unstable tree visited (each one a page looked up through
   * its mm and compared); the 2008 merger: page_hash bucket entries walked.
   */
  unstableLevels: number;
  /** Dups of 6.18 stable-node chains looked at (their KSM page got) while choosing one; 0 elsewhere. */
  chainDups: number;
  /** Tracking items allocated: rmap_items (and the 2009 tree_items, the 2008 hash entries). */
  itemAllocs: number;
  /** Stable nodes allocated (3.9 and 6.18; 6.18's chains and dups count): 0 where the stable tree is made of rmap_items. */
  stableNodeAllocs: number;
}

export function newMergeStats(): MergeStats {
  return {
    pagesScanned: 0,
    checksums: 0,
    bytesHashed: 0,
    comparisons: 0,
    bytesCompared: 0,
    mergeAttempts: 0,
    merges: 0,
    falseHashMatches: 0,
    stableLevels: 0,
    unstableLevels: 0,
    chainDups: 0,
    itemAllocs: 0,
    stableNodeAllocs: 0,
  };
}

/** One merger's work so far: its counters and the copy-on-write breaks of its memory. */
export interface MergeWork extends MergeStats {
  /** Copy-on-write breaks of KSM pages (charged to the writing process, not to ksmd). */
  cowBreaks: number;
}

/** The names of MergeWork in one order (profiles, JSON, tables). */
export const WORK_FIELDS = [
  'pagesScanned',
  'checksums',
  'bytesHashed',
  'comparisons',
  'bytesCompared',
  'mergeAttempts',
  'merges',
  'falseHashMatches',
  'stableLevels',
  'unstableLevels',
  'chainDups',
  'itemAllocs',
  'stableNodeAllocs',
  'cowBreaks',
] as const satisfies ReadonlyArray<keyof MergeWork>;

export function mergeWork(stats: MergeStats, cowBreaks: number): MergeWork {
  return { ...stats, cowBreaks };
}

/** b - a, field by field (the work of an interval). */
export function workDelta(a: MergeWork, b: MergeWork): MergeWork {
  const out = { ...b };
  for (const k of WORK_FIELDS) out[k] = b[k] - a[k];
  return out;
}

export function zeroWork(): MergeWork {
  return mergeWork(newMergeStats(), 0);
}
