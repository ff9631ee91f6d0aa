"""`taskyard completion bash|zsh|fish`: a completion script for the shell, made from the
command's own parser, so every subcommand and flag is in it as `--help` shows them.

Task ids complete too: where a command takes a task, the script asks `taskyard tasks --ids`,
the thin path (one call on a blocking socket: no asyncio, Textual, openai or Docker).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

SHELLS = ("bash", "zsh", "fish")
TASK = "@task"
"""What a positional argument completes to when it names a task: the ids of the tasks."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script for subcommands, flags and task ids. "
        'bash: add `eval "$(taskyard completion bash)"` to ~/.bashrc; '
        "zsh: `taskyard completion zsh > ~/.zfunc/_taskyard` with ~/.zfunc in fpath (or "
        "`source <(taskyard completion zsh)` after compinit); fish: `taskyard completion fish "
        "> ~/.config/fish/completions/taskyard.fish`.",
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from tui.cli import build_parser

    nodes = list(walk(build_parser([])))
    print(WRITERS[args.shell](nodes), end="")
    return 0


@dataclass(frozen=True)
class Flag:
    names: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    """One command level: `""` for taskyard itself, `"hosts check"` for a nested one."""

    path: str
    subcommands: tuple[tuple[str, str], ...]
    """(name, help) of each subcommand."""
    flags: tuple[Flag, ...]
    positionals: tuple[tuple[str, ...], ...]
    """What each positional argument completes to: its choices, TASK, or nothing."""


def walk(parser: argparse.ArgumentParser, path: str = "") -> Iterator[Node]:
    """The node of `parser`, then those of its subcommands, depth first."""
    subcommands: list[tuple[str, str]] = []
    flags: list[Flag] = []
    positionals: list[tuple[str, ...]] = []
    children: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, child in action.choices.items():
                subcommands.append((name, clean(helps.get(name, ""))))
                children.append((name, child))
        elif action.option_strings:
            choices = tuple(str(choice) for choice in action.choices or ())
            flags.append(
                Flag(tuple(action.option_strings), clean(action.help), action.nargs != 0, choices)
            )
        elif action.dest == "task":
            positionals.append((TASK,))
        else:
            positionals.append(tuple(str(choice) for choice in action.choices or ()))
    yield Node(path, tuple(subcommands), tuple(flags), tuple(positionals))
    for name, child in children:
        yield from walk(child, f"{path} {name}".strip())


def clean(help_text: str | None) -> str:
    """A help text on one line, as argparse would show it."""
    if help_text is None or help_text == argparse.SUPPRESS:
        return ""
    return " ".join(help_text.replace("%%", "%").split())


def sh_quote(text: str) -> str:
    """A single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def fish_quote(text: str) -> str:
    """A single-quoted word for fish, where \\ and ' are escaped inside the quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cases(entries: list[tuple[str, str]], quote: Callable[[str], str], style: str) -> list[str]:
    """`case` branches (pattern, body) in bash, zsh or fish syntax."""
    lines: list[str] = []
    for pattern, body in entries:
        if style == "fish":
            lines += [f"        case {quote(pattern)}", f"            {body}"]
        elif style == "zsh":
            lines.append(f"        ({quote(pattern)}) {body} ;;")
        else:
            lines.append(f"        {quote(pattern)}) {body} ;;")
    return lines


def function(
    name: str, subject: str, entries: list[tuple[str, str]], style: str, otherwise: str = ""
) -> list[str]:
    """A shell function that switches on `subject` over `entries`."""
    quote = fish_quote if style == "fish" else sh_quote
    branches = cases(entries, quote, style)
    if style == "fish":
        return [
            f"function {name}",
            f"    switch {subject}",
            *branches,
            "    end",
            *([f"    {otherwise}"] if otherwise else []),
            "end",
            "",
        ]
    return [
        f"{name}() {{",
        f"    case {subject} in",
        *branches,
        "    esac",
        *([f"    {otherwise}"] if otherwise else []),
        "}",
        "",
    ]


def helpers(
    nodes: list[Node], style: str, lister: Callable[[list[tuple[str, str]]], str]
) -> list[str]:
    """The functions every script shares: subcommands and flags of a path (listed by
    `lister`), whether a word is a subcommand or a flag that takes a value, and what a flag or
    the Nth positional completes to."""
    args = '"$argv[1]|$argv[2]"' if style == "fish" else '"$1|$2"'
    first = '"$argv[1]"' if style == "fish" else '"$1"'
    program = "$argv[3]" if style == "fish" else '"$3"'
    fail = "return 1"
    subcommands = [(n.path, lister(list(n.subcommands))) for n in nodes if n.subcommands]
    flags = [
        (n.path, lister([(name, flag.help) for flag in n.flags for name in flag.names]))
        for n in nodes
    ]
    is_subcommand = [(f"{n.path}|{name}", "return 0") for n in nodes for name, _ in n.subcommands]
    value_flags = [
        (f"{n.path}|{name}", "return 0")
        for n in nodes
        for flag in n.flags
        if flag.takes_value
        for name in flag.names
    ]
    ids = f"{program} tasks --ids 2>/dev/null"
    values: list[tuple[str, str]] = []
    for node in nodes:
        for flag in node.flags:
            if flag.choices:
                for name in flag.names:
                    values.append((f"{node.path}|{name}", lister([(c, "") for c in flag.choices])))
        for index, completes in enumerate(node.positionals):
            if completes == (TASK,):
                values.append((f"{node.path}|#{index}", ids))
            elif completes:
                values.append((f"{node.path}|#{index}", lister([(c, "") for c in completes])))
    return [
        *function("_taskyard_subcommands", first, subcommands, style),
        *function("_taskyard_flags", first, flags, style),
        *function("_taskyard_is_subcommand", args, is_subcommand, style, fail),
        *function("_taskyard_value_flag", args, value_flags, style, fail),
        *function("_taskyard_values", args, values, style),
    ]


def bash_list(entries: list[tuple[str, str]]) -> str:
    return "echo " + sh_quote(" ".join(name for name, _ in entries))


def zsh_list(entries: list[tuple[str, str]]) -> str:
    described = [f"{escape_colon(name)}:{text}" if text else name for name, text in entries]
    return "print -rl -- " + " ".join(sh_quote(item) for item in described)


def escape_colon(name: str) -> str:
    """A name for zsh's _describe, where a colon starts the description."""
    return name.replace(":", "\\:")


def fish_list(entries: list[tuple[str, str]]) -> str:
    items = " ".join(f"{fish_quote(name)} {fish_quote(text)}" for name, text in entries)
    return f"printf '%s\\t%s\\n' {items}"


WALK = r"""    while (( i < @CURRENT@ )); do
        word="${@WORDS@[i]}"
        if [[ $word == -* ]]; then
            if [[ $word != *=* ]] && _taskyard_value_flag "$cmdpath" "$word"; then
                (( i++ ))
            fi
        elif (( npos == 0 )) && _taskyard_is_subcommand "$cmdpath" "$word"; then
            cmdpath="${cmdpath:+$cmdpath }$word"
        else
            (( npos++ ))
        fi
        (( i++ ))
    done"""
"""bash's and zsh's walk over the words before the cursor: the subcommand path they name and
how many positional arguments follow it (a flag's value is skipped)."""


def walk_over(words: str, current: str) -> str:
    return WALK.replace("@WORDS@", words).replace("@CURRENT@", current)


BASH_MAIN = r"""
_taskyard() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" word npos=0 i=1
@WALK@
    local prev="${COMP_WORDS[COMP_CWORD-1]}"
    if (( COMP_CWORD > 1 )) && [[ $prev == -* ]] && _taskyard_value_flag "$cmdpath" "$prev"; then
        local values
        values="$(_taskyard_values "$cmdpath" "$prev" "${COMP_WORDS[0]}")"
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_taskyard_flags "$cmdpath")" -- "$cur"))
        return
    fi
    local words
    words="$(_taskyard_values "$cmdpath" "#$npos" "${COMP_WORDS[0]}")"
    if (( npos == 0 )); then
        words="$(_taskyard_subcommands "$cmdpath") $words"
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -o default -F _taskyard taskyard
"""

ZSH_MAIN = r"""
_taskyard() {
    local cmdpath="" word cur prev
    local -i npos=0 i=2
@WALK@
    cur=${words[CURRENT]}
    prev=${words[CURRENT-1]}
    local -a found subcommands
    if (( CURRENT > 2 )) && [[ $prev == -* ]] && _taskyard_value_flag "$cmdpath" "$prev"; then
        found=(${(f)"$(_taskyard_values "$cmdpath" "$prev" "${words[1]}")"})
        if (( ${#found} )); then
            _describe -t values 'value' found
        else
            _files
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        found=(${(f)"$(_taskyard_flags "$cmdpath")"})
        _describe -t options 'option' found
        return
    fi
    found=(${(f)"$(_taskyard_values "$cmdpath" "#$npos" "${words[1]}")"})
    if (( npos == 0 )); then
        subcommands=(${(f)"$(_taskyard_subcommands "$cmdpath")"})
    fi
    (( ${#subcommands} )) && _describe -t commands 'command' subcommands
    (( ${#found} )) && _describe -t values 'value' found
    (( ${#subcommands} + ${#found} )) || _files
}

if [[ "$funcstack[1]" == "_taskyard" ]]; then
    _taskyard "$@"
else
    compdef _taskyard taskyard
fi
"""

FISH_MAIN = r"""
function __taskyard_state --description 'how many positionals, then the subcommand path'
    set -l tokens (commandline -opc)
    set -l cmdpath ''
    set -l npos 0
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        if string match -q -- '-*' $word
            if not string match -q -- '*=*' $word; and _taskyard_value_flag "$cmdpath" $word
                set i (math $i + 1)
            end
        else if test $npos -eq 0; and _taskyard_is_subcommand "$cmdpath" $word
            set cmdpath (string trim -- "$cmdpath $word")
        else
            set npos (math $npos + 1)
        end
        set i (math $i + 1)
    end
    echo $npos
    echo $cmdpath
end

function __taskyard_complete --description 'what the word at the cursor completes to'
    set -l state (__taskyard_state)
    set -l npos $state[1]
    set -l cmdpath "$state[2]"
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l prev $tokens[-1]
    if test (count $tokens) -gt 1; and string match -q -- '-*' $prev
        and _taskyard_value_flag "$cmdpath" $prev
        set -l found (_taskyard_values "$cmdpath" $prev $tokens[1])
        if test (count $found) -gt 0
            printf '%s\n' $found
        else
            __fish_complete_path $current
        end
        return
    end
    if string match -q -- '-*' "$current"
        _taskyard_flags "$cmdpath"
        return
    end
    if test $npos -eq 0
        _taskyard_subcommands "$cmdpath"
    end
    _taskyard_values "$cmdpath" "#$npos" $tokens[1]
end

complete -c taskyard -f -a '(__taskyard_complete)'
"""


def bash_script(nodes: list[Node]) -> str:
    head = ['# taskyard completion for bash: eval "$(taskyard completion bash)" in ~/.bashrc', ""]
    main = BASH_MAIN.replace("@WALK@", walk_over("COMP_WORDS", "COMP_CWORD"))
    return "\n".join([*head, *helpers(nodes, "bash", bash_list)]) + main


def zsh_script(nodes: list[Node]) -> str:
    head = [
        "#compdef taskyard",
        "# taskyard completion for zsh: save as _taskyard in a directory of $fpath, or",
        "# source <(taskyard completion zsh) after compinit",
        "",
    ]
    main = ZSH_MAIN.replace("@WALK@", walk_over("words", "CURRENT"))
    return "\n".join([*head, *helpers(nodes, "zsh", zsh_list)]) + main


def fish_script(nodes: list[Node]) -> str:
    head = [
        "# taskyard completion for fish: taskyard completion fish > "
        "~/.config/fish/completions/taskyard.fish",
        "",
    ]
    return "\n".join([*head, *helpers(nodes, "fish", fish_list)]) + FISH_MAIN


WRITERS: dict[str, Callable[[list[Node]], str]] = {
    "bash": bash_script,
    "zsh": zsh_script,
    "fish": fish_script,
}
