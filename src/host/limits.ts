/**
 * The limits of one host request (src/host/requests.ts, docs/robustness.md):
 * what a script run, a sleep or a control may use before it fails alone,
 * with a clear error, and the host goes on.
 */
export interface RequestLimits {
  /** Statements one script may run (loop tests included). */
  maxSteps: number;
  /** Virtual time one request may let pass, µs. */
  maxVirtualMicros: number;
  /** ksmd batches one request may let run. */
  maxBatches: number;
  /** Pages ksmd may scan for one request (its batches' work, as the mergers count it). */
  maxScannedPages: number;
  /** Bytes of page contents the machine may hold while a script runs. */
  maxContentBytes: number;
  /** Bytes a script run may write (its output, and its trace when asked for). */
  maxOutputBytes: number;
  /** Pages all the machine's mappings may hold together (mmap and fork beyond: ENOMEM). */
  maxMappedPages: number;
  /**
   * The host's time one request may take, ms: the backstop for work the
   * counts above do not see (a statement may touch millions of pages: a
   * memset, a fork, an mmap). Measured, so not reproducible to the
   * statement, unlike the others.
   */
  maxRequestMs: number;
}

export const DEFAULT_LIMITS: Readonly<RequestLimits> = {
  maxSteps: 10_000_000,
  maxVirtualMicros: 86_400_000_000,
  maxBatches: 1_000_000,
  maxScannedPages: 20_000_000,
  maxContentBytes: 1 << 30,
  maxOutputBytes: 16 << 20,
  maxMappedPages: 1 << 26,
  maxRequestMs: 60_000,
};
