/**
 * Work counters of a merger, for comparing algorithms (not kernel counters):
 * what the scanner did, counted where the seed code does the work.
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
}

export function newMergeStats(): MergeStats {
  return { pagesScanned: 0, checksums: 0, bytesHashed: 0, comparisons: 0, bytesCompared: 0, mergeAttempts: 0, merges: 0, falseHashMatches: 0 };
}
