/**
 * The files of /sys/kernel/mm/ksm as this kernel has them. Which files exist
 * depends on the version (2.6.32 had 9, 6.18 has 24); nothing here assumes
 * a list: a file is a knob when its owner may write it (0644), a counter when
 * it is read-only (0444), as the kernel declares them (KSM_ATTR vs
 * KSM_ATTR_RO in mm/ksm.c).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One file of the directory: its text as read, without the newline. */
export interface KsmFile {
  name: string;
  /** The text the kernel printed (`[none] scan-time`, `100`). */
  text: string;
  /** Writable by its owner (a knob) rather than read-only (a counter). */
  knob: boolean;
}

/** The names a user reads first, in the order the status shows them; the rest follow by name. */
export const COUNTER_ORDER = [
  'pages_shared',
  'pages_sharing',
  'pages_unshared',
  'pages_volatile',
  'full_scans',
  'pages_scanned',
  'pages_skipped',
  'stable_node_chains',
  'stable_node_dups',
  'ksm_zero_pages',
  'general_profit',
] as const;
export const KNOB_ORDER = [
  'run',
  'pages_to_scan',
  'sleep_millisecs',
  'max_page_sharing',
  'merge_across_nodes',
  'use_zero_pages',
  'smart_scan',
  'stable_node_chains_prune_millisecs',
  'advisor_mode',
  'max_kernel_pages',
] as const;

function ordered(names: string[], first: readonly string[]): string[] {
  const rank = (n: string) => {
    const i = first.indexOf(n);
    return i < 0 ? first.length : i;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A KSM directory whose files can be listed, read and (as root) written. */
export class KsmSysfs {
  constructor(readonly root: string) {}

  /** The directory exists: the kernel was built with CONFIG_KSM. */
  present(): boolean {
    return existsSync(this.root);
  }

  has(name: string): boolean {
    return existsSync(join(this.root, name));
  }

  read(name: string): string {
    return readFileSync(join(this.root, name), 'utf8').trim();
  }

  /** A counter or numeric knob as a number (sysfs prints them in decimal). */
  readInt(name: string): number {
    const text = this.read(name);
    const n = Number(text);
    if (!/^-?[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`${join(this.root, name)}: not a number: "${text}"`);
    return n;
  }

  /**
   * The value of a knob in the form it is written back: a choice file such
   * as advisor_mode prints every choice with the current one in brackets.
   */
  knobValue(name: string): string {
    return knobValueOf(this.read(name));
  }

  /**
   * echo VALUE > FILE, in one write(2) as the shell does: the kernel's store
   * sees the whole value or refuses it (the error carries its errno code).
   */
  write(name: string, value: string): void {
    const fd = openSync(join(this.root, name), 'w');
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  }

  /** Every regular file: counters first in COUNTER_ORDER, then knobs in KNOB_ORDER, each group's others by name. */
  files(): KsmFile[] {
    const out: KsmFile[] = [];
    for (const name of readdirSync(this.root)) {
      const path = join(this.root, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      let text: string;
      try {
        text = readFileSync(path, 'utf8').trim();
      } catch {
        continue; // a file this user may not read
      }
      out.push({ name, text, knob: (st.mode & 0o200) !== 0 });
    }
    const counters = ordered(out.filter((f) => !f.knob).map((f) => f.name), COUNTER_ORDER);
    const knobs = ordered(out.filter((f) => f.knob).map((f) => f.name), KNOB_ORDER);
    const byName = new Map(out.map((f) => [f.name, f]));
    return [...counters, ...knobs].map((n) => byName.get(n)!);
  }

  /** The knobs (owner-writable files) and their values in writable form. */
  knobs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.files()) if (f.knob) out[f.name] = knobValueOf(f.text);
    return out;
  }
}

/** `[none] scan-time` -> `none`; any other text unchanged. */
export function knobValueOf(text: string): string {
  const chosen = /\[([^\]]*)\]/.exec(text);
  return chosen === null ? text : chosen[1];
}

/** A file's text as a number when it is one (counters, numeric knobs), else null. */
export function numberOf(text: string): number | null {
  if (!/^-?[0-9]+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
