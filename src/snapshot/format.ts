/**
 * The snapshot file format, version 1 (docs/snapshot-format.md is the
 * reference; this file holds its numbers). A snapshot is written as a
 * stream, front to back, and read from its trailer:
 *
 *   header    32 bytes: MAGIC, major, minor, page size, header size, flags
 *   records   each a 32-byte record header and its payload:
 *               CONTENTS  distinct page contents, numbered in file order
 *               PAGES     a run of one mapping's page table
 *               PROCESS   one captured process (JSON: pid, comm, mappings)
 *               INDEX     where everything is (JSON), written last
 *   trailer   32 bytes: TRAILER_MAGIC, the INDEX record's offset, file size
 *
 * Page references (a u32 per page of a mapping): REF_ABSENT (nothing was
 * captured: not present, swapped out, unreadable), REF_ZERO (present and
 * all zero bytes; never stored), or a content number >= FIRST_CONTENT.
 */

/** "\x89KSMSNAP": the 0x89 keeps text tools and 7-bit channels away, as PNG's does. */
export const MAGIC = Uint8Array.from([0x89, 0x4b, 0x53, 0x4d, 0x53, 0x4e, 0x41, 0x50]);
/** "\x89KSMEND\n" */
export const TRAILER_MAGIC = Uint8Array.from([0x89, 0x4b, 0x53, 0x4d, 0x45, 0x4e, 0x44, 0x0a]);
/** A reader refuses another major version; minor versions only add (fields, record types it skips). */
export const VERSION_MAJOR = 1;
export const VERSION_MINOR = 0;
export const HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 32;
export const TRAILER_BYTES = 32;
export const SNAPSHOT_PAGE_SIZE = 4096;

/** Record types (u32 at offset 0 of a record header). */
export const RECORD_CONTENTS = 1;
export const RECORD_PAGES = 2;
export const RECORD_PROCESS = 3;
export const RECORD_INDEX = 4;

/** Payload codecs (u32 at offset 4). */
export const CODEC_RAW = 0;
export const CODEC_DEFLATE = 1;
export const CODEC_BROTLI = 2;
export const CODEC_NAMES: Record<number, string> = { [CODEC_RAW]: 'raw', [CODEC_DEFLATE]: 'deflate', [CODEC_BROTLI]: 'brotli' };

/** Page references. */
export const REF_ABSENT = 0;
export const REF_ZERO = 1;
export const FIRST_CONTENT = 2;

/** Page flags (a u8 per page of a mapping), from /proc/PID/pagemap where captured there. */
export const PF_PRESENT = 0x01; // pagemap bit 63: in RAM (a core's dumped page; every page of a raw image)
export const PF_SWAPPED = 0x02; // bit 62: swapped out (no content captured)
export const PF_FILE = 0x04; // bit 61: a file page or shared anonymous (page cache, shmem): KSM never merges it
export const PF_EXCLUSIVE = 0x08; // bit 56: mapped by this process only
export const PF_SOFT_DIRTY = 0x10; // bit 55
export const PF_UNREADABLE = 0x20; // present, but /proc/PID/mem refused the read (no content captured)

/** Pages per CONTENTS record (1 MiB of pages before compression) and per PAGES record. */
export const CONTENTS_PER_RECORD = 256;
export const PAGES_PER_RECORD = 65536;
/** A PAGES payload: process seq u32, mapping u32, first page u64, count u32, pad u32, then refs u32[], frames u32[], flags u8[]. */
export const PAGES_HEADER_BYTES = 24;

/** Where a snapshot came from (a process's `source`). */
export type SourceKind = 'proc' | 'core' | 'raw';

/** What a mapping is, from its maps line (path and flags). */
export type MappingKind = 'anon' | 'heap' | 'stack' | 'file' | 'shmem' | 'hugetlb' | 'special';

/** One mapping as the PROCESS record's JSON holds it (addresses as 0x hex strings: JSON numbers lose bits past 2^53). */
export interface MappingRecord {
  start: string;
  end: string;
  /** `rw-p`: the maps line's permissions (p private, s shared). */
  perms: string;
  offset: string;
  dev: string;
  inode: number;
  /** The maps line's path column ([heap], /usr/lib/libc.so.6, ...), or null for anonymous memory. */
  path: string | null;
  kind: MappingKind;
  /** smaps' VmFlags (two-letter codes; `mg` = VM_MERGEABLE), or null when the source had none (cores, raw images). */
  vmFlags: string[] | null;
  /** smaps' AnonHugePages, in kB (pages of transparent huge pages), when known. */
  anonHugeKb?: number;
  /** smaps' Rss and Swap in kB, when known. */
  rssKb?: number;
  swapKb?: number;
}

/** A PROCESS record. */
export interface ProcessRecord {
  /** Its number in the file (0, 1, ...): PAGES records name it. */
  seq: number;
  /** The capture it belongs to (0 for a single capture; --every takes several). */
  capture: number;
  source: SourceKind;
  pid: number;
  comm: string;
  /** Arguments, as /proc/PID/cmdline splits them at NULs. */
  cmdline: string[];
  /** The core or image file (core, raw). */
  file?: string;
  cgroup?: string;
  /** ISO time the capture of this process began. */
  time: string;
  mappings: MappingRecord[];
  /** One line per thing that went wrong (a range /proc/PID/mem refused, the process exiting mid-capture). */
  problems: string[];
}

export interface CaptureRecord {
  index: number;
  time: string;
  label?: string;
}

/** The INDEX record's JSON. */
export interface IndexRecord {
  tool: string;
  created: string;
  captures: CaptureRecord[];
  /** Offsets of the PROCESS records, by seq. */
  processes: number[];
  /** Offsets of the PAGES records: [seq, mapping, first page, count, offset]. */
  pages: Array<[number, number, number, number, number]>;
  /** Offsets of the CONTENTS records: [first content number, count, offset]. */
  contents: Array<[number, number, number]>;
  /** Distinct contents stored (the last content number is FIRST_CONTENT + count - 1). */
  contentCount: number;
}
