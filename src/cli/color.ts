/**
 * Whether the CLI colours its output: the one place it is decided.
 *
 * - FORCE_COLOR set and not "0"/"false": colour, even off a terminal;
 *   FORCE_COLOR=0 or false: none (as Node and chalk read it; FORCE_COLOR wins over NO_COLOR, as in Node);
 * - else NO_COLOR set to any non-empty value (https://no-color.org): none;
 * - else colour when stdout is a terminal.
 */
export type ColorEnv = Readonly<Record<string, string | undefined>>;

export function wantColor(isTTY: boolean, env: ColorEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

/**
 * The TUI colours through ink and chalk, whose supports-color reads FORCE_COLOR
 * but not NO_COLOR: with NO_COLOR (and no FORCE_COLOR) this sets FORCE_COLOR=0,
 * before chalk is first imported, so the TUI agrees with wantColor.
 */
export function applyNoColor(env: Record<string, string | undefined> = process.env): void {
  if ((env.FORCE_COLOR === undefined || env.FORCE_COLOR === '') && env.NO_COLOR !== undefined && env.NO_COLOR !== '') env.FORCE_COLOR = '0';
}
