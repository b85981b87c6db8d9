/**
 * `ksmctl completion bash|zsh|fish`: a shell completion script generated
 * from the commander definitions, so it cannot drift from the commands.
 *
 * Why not a library: the candidates that fit commander 14 (@bomb.sh/tab
 * 0.0.x, tabtab/@pnpm/tabtab, omelette) all call the program back on every
 * TAB (a node start each time) and @bomb.sh/tab, the one that reads
 * commander, answers every request with "no file completion", so a
 * workload, script or snapshot argument could not complete to a file; its
 * bash script also needs bash-completion's _get_comp_words_by_ref and
 * mangles values holding a colon (`--era v3:6.18`). A static table and a
 * few lines of shell per shell do all of it with no process per TAB.
 *
 * The table (one record per line, fields split by `|`; a command's path is
 * `ksmctl` and its subcommands' names, space-separated):
 *   S|PATH|NAME|DESCRIPTION        NAME is a subcommand of PATH
 *   O|PATH|FLAG|KIND|DESCRIPTION   FLAG (-o, --output) is an option of PATH
 *   A|PATH|N|KIND|VARIADIC         the Nth positional argument (0-based) of PATH
 * and KIND says what a value is: `b` none (a boolean flag), `n` a value with
 * nothing to offer (a number), `f` a file, `fw:W...` a file or one of the
 * words W, `w:W...` one of the words, `l:W...` a comma-separated list of them.
 *
 * Each shell's script walks the words typed so far with that table
 * (subcommands descend, an option that takes a value skips it, anything
 * else is a positional argument), then offers the current word's candidates.
 */
import type { Command, Option } from 'commander';
import { ERA_IDS, REAL_ERA_ID } from '../eras/registry.js';
import { CHECKSUM_NAMES } from '../engine/hash/page-checksum.js';
import { REGISTER_POLICIES } from '../snapshot/policy.js';
import { builtinNames } from '../workload/builtin.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One line of text for a table field: no field separator, no line breaks, short. */
function field(s: string): string {
  const one = s.replace(/[|\r\n\t]+/g, ' ').replace(/\s+/g, ' ').trim();
  return one.length > 70 ? `${one.slice(0, 69)}…` : one || '-';
}

const eraWords = (withReal: boolean): string => [...ERA_IDS, ...(withReal ? [REAL_ERA_ID] : [])].join(' ');

/** What the value of an option is, from its name, its choices and its placeholder. */
function optionKind(o: Option): string {
  if (!o.required && !o.optional) return 'b';
  if (o.argChoices?.length) return `w:${o.argChoices.join(' ')}`;
  const long = o.long ?? '';
  if (long === '--era') return `w:${eraWords(/\bor real\b/.test(o.description))}`;
  if (long === '--eras') return `l:${eraWords(false)}`;
  if (long === '--checksum') return `l:${CHECKSUM_NAMES.join(' ')}`;
  if (long === '--register') return `w:${REGISTER_POLICIES.join(' ')}`;
  const placeholder = /[<[]([^>\]]*)[>\]]/.exec(o.flags)?.[1] ?? '';
  return /file|path|dir/i.test(placeholder) ? 'f' : 'n';
}

/** What a positional argument is: its choices, a workload (a file or builtin:NAME), a file, or anything. */
function argumentKind(name: string, description: string, choices: readonly string[] | undefined): string {
  if (choices?.length) return `w:${choices.join(' ')}`;
  if (/builtin:/.test(description)) return `fw:${builtinNames().map((n) => `builtin:${n}`).join(' ')}`;
  return /file|snapshot|workload|script|path/i.test(name) ? 'f' : 'n';
}

/** The table of every visible command, option and argument, from the root down. */
export function completionTable(program: Command): string[] {
  const rows: string[] = [];
  const walk = (cmd: Command, path: string) => {
    const help = cmd.createHelp();
    for (const o of help.visibleOptions(cmd)) {
      for (const flag of [o.short, o.long]) if (flag) rows.push(`O|${path}|${flag}|${optionKind(o)}|${field(o.description)}`);
    }
    const subs = help.visibleCommands(cmd);
    for (const sub of subs) {
      for (const name of [sub.name(), ...sub.aliases()]) rows.push(`S|${path}|${name}|${field(sub.description())}`);
    }
    cmd.registeredArguments.forEach((a, i) => rows.push(`A|${path}|${i}|${argumentKind(a.name(), a.description, a.argChoices)}|${a.variadic ? 1 : 0}`));
    for (const sub of subs) {
      const subPath = `${path} ${sub.name()}`;
      // `help [command]`: commander's own, whose argument is a command of the level it belongs to.
      if (sub.name() === 'help') {
        rows.push(`O|${subPath}|--help|b|display help for command`);
        rows.push(`A|${subPath}|0|w:${subs.filter((s) => s !== sub).map((s) => s.name()).join(' ')}|0`);
        continue;
      }
      walk(sub, subPath);
    }
  };
  walk(program, program.name());
  return rows;
}

export function completionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const data = completionTable(program).join('\n');
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  switch (shell) {
    case 'bash':
      return bashScript(name, fn, data);
    case 'zsh':
      return zshScript(name, fn, data);
    case 'fish':
      return fishScript(name, fn, data);
  }
}

function bashScript(name: string, fn: string, data: string): string {
  return `# bash completion for ${name} (generated by \`${name} completion bash\`)
# Install: ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
#      or: echo 'source <(${name} completion bash)' >> ~/.bashrc

${fn}_data=$(cat <<'KSMCTL_COMPLETION_DATA'
${data}
KSMCTL_COMPLETION_DATA
)

# REPLY: the kind of option $2 of command path $1, empty when it is not one.
${fn}_optkind() {
  local k p a b c
  REPLY=''
  while IFS='|' read -r k p a b c; do
    if [[ $k == O && $p == "$1" && $a == "$2" ]]; then REPLY=$b; return; fi
  done <<< "\$${fn}_data"
}

# Adds to cands the values of kind $1 that complete $2, each after prefix $3.
${fn}_values() {
  local kind=$1 cur=$2 pre=$3 v lead='' item=$2
  local IFS=$'\\n'
  case $kind in
    f|fw:*)
      compopt -o filenames 2>/dev/null
      for v in $(compgen -f -- "$cur"); do cands+=("$pre$v"); done ;;
  esac
  case $kind in
    l:*) if [[ $cur == *,* ]]; then lead=\${cur%,*},; item=\${cur##*,}; fi ;;
  esac
  if [[ $kind == [wl]:* || $kind == fw:* ]]; then
    IFS=' '
    for v in \${kind#*:}; do [[ $v == "$item"* ]] && cands+=("$pre$lead$v"); done
  fi
}

${fn}() {
  local line
  if [[ -n \${COMP_LINE+x} ]]; then line=\${COMP_LINE:0:\${COMP_POINT:-\${#COMP_LINE}}}; else line="\${COMP_WORDS[*]:0:COMP_CWORD+1}"; fi
  local -a w cands=()
  read -ra w <<< "$line"
  local cur=''
  if [[ -n $line && $line != *[[:space:]] ]]; then cur=\${w[\${#w[@]}-1]}; unset "w[\${#w[@]}-1]"; fi
  local path=${name} npos=0 i t want='' k p a b c found
  for ((i = 1; i < \${#w[@]}; i++)); do
    t=\${w[i]}
    if [[ $t == -* ]]; then
      [[ $t == *=* ]] && continue
      ${fn}_optkind "$path" "$t"
      if [[ -n $REPLY && $REPLY != b ]]; then
        if ((i == \${#w[@]} - 1)); then want=$REPLY; else ((i++)); fi
      fi
      continue
    fi
    found=''
    while IFS='|' read -r k p a b c; do
      if [[ $k == S && $p == "$path" && $a == "$t" ]]; then found=1; break; fi
    done <<< "\$${fn}_data"
    if [[ -n $found ]]; then path="$path $t"; npos=0; else ((npos++)); fi
  done
  if [[ -n $want ]]; then
    ${fn}_values "$want" "$cur" ''
  elif [[ $cur == --*=* ]]; then
    ${fn}_optkind "$path" "\${cur%%=*}"
    [[ -n $REPLY && $REPLY != b ]] && ${fn}_values "$REPLY" "\${cur#*=}" "\${cur%%=*}="
  else
    local argkind='' last=''
    while IFS='|' read -r k p a b c; do
      [[ $p == "$path" ]] || continue
      if [[ $k == O && $cur == -* && $a == "$cur"* ]]; then cands+=("$a")
      elif [[ $k == S && $cur != -* && $a == "$cur"* ]]; then cands+=("$a")
      elif [[ $k == A ]]; then
        if [[ $a == "$npos" ]]; then argkind=$b; elif [[ $c == 1 ]]; then last=$b; fi
      fi
    done <<< "\$${fn}_data"
    [[ -z $argkind && -n $last ]] && argkind=$last
    [[ $cur != -* && -n $argkind ]] && ${fn}_values "$argkind" "$cur" ''
  fi
  # bash splits the word at ':' and '=' (COMP_WORDBREAKS): give it only what follows.
  local brk=\${cur%\"\${cur##*[=:]}\"}
  if [[ -n $brk && $COMP_WORDBREAKS == *[=:]* ]]; then
    for i in "\${!cands[@]}"; do cands[i]=\${cands[i]#"$brk"}; done
  fi
  COMPREPLY=("\${cands[@]}")
}

complete -F ${fn} ${name}
`;
}

function zshScript(name: string, fn: string, data: string): string {
  return `#compdef ${name}
# zsh completion for ${name} (generated by \`${name} completion zsh\`)
# Install: ${name} completion zsh > "\${fpath[1]}/_${name}"   (then start a new shell)
#      or: echo 'source <(${name} completion zsh)' >> ~/.zshrc   (after compinit)

${fn}_data=$(cat <<'KSMCTL_COMPLETION_DATA'
${data}
KSMCTL_COMPLETION_DATA
)

${fn}_optkind() {
  local rec
  local -a f
  REPLY=''
  for rec in "\${(@f)${fn}_data}"; do
    f=("\${(@s:|:)rec}")
    if [[ $f[1] == O && $f[2] == "$1" && $f[3] == "$2" ]]; then REPLY=$f[4]; return; fi
  done
}

${fn}_values() {
  local kind=$1
  case $kind in
    f) _files ;;
    fw:*) _files; compadd -- \${=kind#*:} ;;
    w:*) compadd -- \${=kind#*:} ;;
    l:*) compset -P '*,'; compadd -S '' -- \${=kind#*:} ;;
  esac
}

${fn}() {
  local cmdpath=${name} npos=0 i t want='' rec found argkind='' lastkind=''
  local -a f subs subdescs opts optdescs
  local cur=\${words[CURRENT]}
  for ((i = 2; i < CURRENT; i++)); do
    t=\${words[i]}
    if [[ $t == -* ]]; then
      [[ $t == *=* ]] && continue
      ${fn}_optkind "$cmdpath" "$t"
      if [[ -n $REPLY && $REPLY != b ]]; then
        if ((i == CURRENT - 1)); then want=$REPLY; else ((i++)); fi
      fi
      continue
    fi
    found=''
    for rec in "\${(@f)${fn}_data}"; do
      f=("\${(@s:|:)rec}")
      if [[ $f[1] == S && $f[2] == "$cmdpath" && $f[3] == "$t" ]]; then found=1; break; fi
    done
    if [[ -n $found ]]; then cmdpath="$cmdpath $t"; npos=0; else ((npos++)); fi
  done
  if [[ -n $want ]]; then
    ${fn}_values "$want"
    return
  fi
  if [[ $cur == --*=* ]]; then
    ${fn}_optkind "$cmdpath" "\${cur%%=*}"
    if [[ -n $REPLY && $REPLY != b ]]; then
      compset -P '*='
      ${fn}_values "$REPLY"
    fi
    return
  fi
  for rec in "\${(@f)${fn}_data}"; do
    f=("\${(@s:|:)rec}")
    [[ $f[2] == "$cmdpath" ]] || continue
    case $f[1] in
      S) subs+=("$f[3]"); subdescs+=("$f[3]  -- $f[4]") ;;
      O) opts+=("$f[3]"); optdescs+=("$f[3]  -- $f[5]") ;;
      A) if [[ $f[3] == "$npos" ]]; then argkind=$f[4]; elif [[ $f[5] == 1 ]]; then lastkind=$f[4]; fi ;;
    esac
  done
  [[ -z $argkind && -n $lastkind ]] && argkind=$lastkind
  if [[ $cur == -* ]]; then
    compadd -l -d optdescs -- $opts
  else
    (( \${#subs} )) && compadd -l -d subdescs -- $subs
    [[ -n $argkind ]] && ${fn}_values "$argkind"
  fi
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

/** A fish single-quoted string. */
const fishQuote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishScript(name: string, fn: string, data: string): string {
  const lines = data.split('\n').map(fishQuote).join(' \\\n    ');
  return `# fish completion for ${name} (generated by \`${name} completion fish\`)
# Install: ${name} completion fish > ~/.config/fish/completions/${name}.fish

set -g ${fn}_data \\
    ${lines}

function ${fn}_optkind
    for rec in $${fn}_data
        set -l f (string split -- '|' $rec)
        if test "x$f[1]" = xO; and test "x$f[2]" = "x$argv[1]"; and test "x$f[3]" = "x$argv[2]"
            echo $f[4]
            return
        end
    end
end

function ${fn}_values
    set -l kind $argv[1]
    set -l cur $argv[2]
    set -l pre $argv[3]
    switch $kind
        case f 'fw:*'
            for v in (__fish_complete_path $cur)
                echo $pre$v
            end
    end
    switch $kind
        case 'w:*' 'fw:*'
            for v in (string split ' ' -- (string replace -r '^[a-z]+:' '' -- $kind))
                echo $pre$v
            end
        case 'l:*'
            set -l lead (string match -r -- '^.*,' $cur)
            for v in (string split ' ' -- (string replace -r '^[a-z]+:' '' -- $kind))
                echo $pre$lead$v
            end
    end
end

function ${fn}_complete
    set -l toks (commandline -opc)
    set -l cur (commandline -ct)
    set -l cmdpath ${name}
    set -l npos 0
    set -l want ''
    set -l n (count $toks)
    set -l i 2
    while test $i -le $n
        set -l t $toks[$i]
        if string match -q -- '-*' $t
            if not string match -q -- '*=*' $t
                set -l kind (${fn}_optkind $cmdpath $t)
                if test -n "$kind"; and test "$kind" != b
                    if test $i -eq $n
                        set want $kind
                    else
                        set i (math $i + 1)
                    end
                end
            end
        else
            set -l found ''
            for rec in $${fn}_data
                set -l f (string split -- '|' $rec)
                if test "x$f[1]" = xS; and test "x$f[2]" = "x$cmdpath"; and test "x$f[3]" = "x$t"
                    set found 1
                    break
                end
            end
            if test -n "$found"
                set cmdpath "$cmdpath $t"
                set npos 0
            else
                set npos (math $npos + 1)
            end
        end
        set i (math $i + 1)
    end
    if test -n "$want"
        ${fn}_values $want $cur ''
        return
    end
    if string match -q -- '--*=*' $cur
        set -l opt (string split -m 1 -- '=' $cur)[1]
        set -l kind (${fn}_optkind $cmdpath $opt)
        if test -n "$kind"; and test "$kind" != b
            ${fn}_values $kind (string split -m 1 -- '=' $cur)[2] "$opt="
        end
        return
    end
    set -l argkind ''
    set -l lastkind ''
    for rec in $${fn}_data
        set -l f (string split -- '|' $rec)
        test "x$f[2]" = "x$cmdpath"; or continue
        switch $f[1]
            case O
                string match -q -- '-*' $cur; and printf '%s\\t%s\\n' $f[3] $f[5]
            case S
                string match -q -- '-*' $cur; or printf '%s\\t%s\\n' $f[3] $f[4]
            case A
                if test "x$f[3]" = "x$npos"
                    set argkind $f[4]
                else if test "x$f[5]" = x1
                    set lastkind $f[4]
                end
        end
    end
    test -z "$argkind"; and set argkind $lastkind
    if test -n "$argkind"; and not string match -q -- '-*' $cur
        ${fn}_values $argkind $cur ''
    end
end

complete -c ${name} -f -a '(${fn}_complete)'
`;
}
