/**
 * The TUI's key bindings: one table, command → keys. The input handler and
 * the help overlay both read it, so they cannot drift apart.
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
  | 'era';

export interface Binding {
  command: Command;
  /** Key names as `keyName` returns them: a character, or up/down/space/enter/escape. */
  keys: string[];
  /** What it does, for the help overlay. */
  help: string;
  /** A short label for the footer, when it belongs there. */
  hint?: string;
}

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
  { command: 'churn', keys: ['c'], help: 'the selected process writes 32 random pages', hint: 'churn' },
  { command: 'autoChurn', keys: ['w'], help: 'turn the workload\'s own page churn off or on' },
  { command: 'exitProcess', keys: ['x'], help: 'the selected process exits', hint: 'exit' },
  { command: 'spawnGuest', keys: ['g'], help: 'start another guest from the same image', hint: 'guest' },
  { command: 'era', keys: ['e'], help: 'restart the workload under another era', hint: 'era' },
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

/** The first key of a command, as shown (for hints in other panels). */
export function keyOf(command: Command): string {
  return showKey(KEY_TABLE.find((b) => b.command === command)!.keys[0]);
}
