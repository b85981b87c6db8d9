/**
 * The TUI's key bindings: one table, command → keys. The input handler and
 * the help overlay both read it, so they cannot drift apart. A binding with
 * a `file` writes one of the era's own files (6.18's use_zero_pages, 3.9's
 * merge_across_nodes): it is there only in the eras that have that file.
 */
import type { Key } from 'ink';

export type Command =
  | 'help'
  | 'quit'
  | 'startStop'
  | 'unmerge'
  | 'pagesUp'
  | 'pagesDown'
  | 'sleepUp'
  | 'sleepDown'
  | 'faster'
  | 'slower'
  | 'pause'
  | 'step'
  | 'selectUp'
  | 'selectDown'
  | 'churn'
  | 'autoChurn'
  | 'exitProcess'
  | 'spawnGuest'
  | 'era'
  | 'zeroPages'
  | 'maxPageSharing'
  | 'smartScan'
  | 'advisorMode'
  | 'mergeAcrossNodes';

/** A key that writes one of the era's files: its name, and the value written next given the value it shows. */
export interface FileControl {
  name: string;
  next(current: string): string;
}

export interface Binding {
  command: Command;
  /** Key names as `keyName` returns them: a character, or up/down/space/enter/escape. */
  keys: string[];
  /** What it does, for the help overlay. */
  help: string;
  /** A short label for the footer, when it belongs there. */
  hint?: string;
  /** The era file it writes; the binding exists only where the era has the file. */
  file?: FileControl;
}

/** The value a file shows selected: `[none] scan-time` → `none`; a plain value as it is. */
export function selectedValue(text: string): string {
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();
}

const toggle = (v: string) => (selectedValue(v) === '0' ? '1' : '0');

/** The values `m` steps max_page_sharing through (the default is 256), back to the first after the last. */
export const MAX_PAGE_SHARING_STEPS = [2, 8, 16, 64, 256, 1024] as const;

export const KEY_TABLE: readonly Binding[] = [
  { command: 'startStop', keys: ['s'], help: 'start or stop ksmd (the era\'s run control)', hint: 'start/stop' },
  { command: 'unmerge', keys: ['u'], help: 'unmerge every KSM page (where the era had it)', hint: 'unmerge' },
  { command: 'pagesUp', keys: ['+', '='], help: 'more pages_to_scan per batch', hint: 'pages' },
  { command: 'pagesDown', keys: ['-', '_'], help: 'fewer pages_to_scan per batch' },
  { command: 'sleepDown', keys: ['['], help: 'shorter sleep between batches', hint: 'sleep' },
  { command: 'sleepUp', keys: [']'], help: 'longer sleep between batches' },
  { command: 'slower', keys: ['<'], help: 'virtual time runs slower', hint: 'speed' },
  { command: 'faster', keys: ['>'], help: 'virtual time runs faster' },
  { command: 'pause', keys: ['space', 'p'], help: 'pause or resume virtual time', hint: 'pause' },
  { command: 'step', keys: ['n', '.'], help: 'run ksmd\'s next batch (one batch at a time)', hint: 'step' },
  { command: 'selectUp', keys: ['up', 'k'], help: 'select the previous process' },
  { command: 'selectDown', keys: ['down', 'j'], help: 'select the next process' },
  { command: 'churn', keys: ['c'], help: 'the selected process writes 32 random pages', hint: 'write 32' },
  { command: 'autoChurn', keys: ['w'], help: 'turn the workload\'s own page churn off or on', hint: 'churn on/off' },
  { command: 'exitProcess', keys: ['x'], help: 'the selected process exits', hint: 'exit' },
  { command: 'spawnGuest', keys: ['g'], help: 'start another guest from the same image', hint: 'guest' },
  { command: 'era', keys: ['e'], help: 'restart the workload under another era', hint: 'era' },
  { command: 'zeroPages', keys: ['z'], help: 'use_zero_pages on/off: empty pages map the zero page', file: { name: 'use_zero_pages', next: toggle } },
  {
    command: 'maxPageSharing',
    keys: ['m'],
    help: `max_page_sharing: next of ${MAX_PAGE_SHARING_STEPS.join(', ')} (no KSM pages)`,
    file: { name: 'max_page_sharing', next: (v) => String(MAX_PAGE_SHARING_STEPS.find((n) => n > Number(v)) ?? MAX_PAGE_SHARING_STEPS[0]) },
  },
  { command: 'smartScan', keys: ['i'], help: 'smart_scan on/off: skip pages that did not merge lately', file: { name: 'smart_scan', next: toggle } },
  {
    command: 'advisorMode',
    keys: ['a'],
    help: 'advisor_mode none or scan-time: ksmd sizes its own batches',
    file: { name: 'advisor_mode', next: (v) => (selectedValue(v) === 'none' ? 'scan-time' : 'none') },
  },
  { command: 'mergeAcrossNodes', keys: ['o'], help: 'merge_across_nodes on/off (NUMA; no KSM pages)', file: { name: 'merge_across_nodes', next: toggle } },
  { command: 'help', keys: ['?', 'h'], help: 'show or hide this help', hint: 'help' },
  { command: 'quit', keys: ['q'], help: 'quit (the terminal is restored)', hint: 'quit' },
];

/** The name of a key press in the table's terms, or undefined for keys the table never uses. */
export function keyName(input: string, key: Key): string | undefined {
  return keyNames(input, key)[0];
}

/**
 * The key names of one input event: keys typed faster than the terminal is
 * read (or sent together, as `tmux send-keys j c` does) arrive as one
 * string of several characters, each a key.
 */
export function keyNames(input: string, key: Key): string[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.return) return ['enter'];
  if (key.escape) return ['escape'];
  if (key.ctrl || key.meta) return [];
  return [...input].map((c) => (c === ' ' ? 'space' : c));
}

const BY_KEY = new Map<string, Command>(KEY_TABLE.flatMap((b) => b.keys.map((k) => [k, b.command] as const)));

export function commandFor(name: string | undefined): Command | undefined {
  return name === undefined ? undefined : BY_KEY.get(name);
}

/** How a key is shown to people: ↑ ↓ for arrows, the word for space. */
export function showKey(name: string): string {
  return name === 'up' ? '↑' : name === 'down' ? '↓' : name;
}

/** The binding that writes the era file `name`, if any. */
export function bindingOfFile(name: string): Binding | undefined {
  return KEY_TABLE.find((b) => b.file?.name === name);
}

/** The commands of the table that do nothing in an era with these files (a file key whose file it lacks). */
export function missingFileCommands(files: Iterable<string>): Command[] {
  const have = new Set(files);
  return KEY_TABLE.filter((b) => b.file !== undefined && !have.has(b.file.name)).map((b) => b.command);
}

/** The first key of a command, as shown (for hints in other panels). */
export function keyOf(command: Command): string {
  return showKey(KEY_TABLE.find((b) => b.command === command)!.keys[0]);
}
