"""What the model is told: system instructions with the AGENTS.md files, and the task.

The shell-result contract explained here is implemented by `engine.commands.CommandOutcome`:
`chunk_id`, `exit_code` and `duration` lines, then `output (N lines):` and the stored output,
numbered from 1, shortened to head and tail around a marker that names the omitted lines.
"""

from __future__ import annotations

from typing import Literal

from engine.git.gitops import AgentsDoc

Mode = Literal["code", "ask"]

_ROLE = """\
You are a coding agent working on a task in your own sandbox: a Linux container holding the \
user's repository at {repo_dir}, checked out on the task branch. Work there until the task is \
done, then give your final answer."""

_TOOLS = """\
# Tools

`shell` runs a command: `command` is an argv list (use ["bash", "-lc", "..."] for pipes and \
globs), `workdir` defaults to the working directory, `timeout_ms` bounds it. Every result \
starts with the lines `chunk_id: <id>`, `exit_code: <n>`, `duration: <s>` and \
`output (<n> lines):`; the output follows, its lines numbered from 1. Long output is shortened \
to its head and tail around a marker naming the omitted line numbers; shown lines keep their \
original numbers."""

_APPLY_PATCH = """\
`apply_patch` edits files: `input` is a patch in this format, paths relative to {repo_dir}:

*** Begin Patch
*** Update File: src/app.py
@@ def greet(name):
-    return "hi " + name
+    return f"Hello, {{name}}!"
*** Add File: tests/test_app.py
+from src.app import greet
+
+def test_greet():
+    assert greet("Ada") == "Hello, Ada!"
*** Delete File: src/old.py
*** End Patch

In an update, `@@` names a line just above the change (a def or class), then each line is \
` ` (context), `-` (remove) or `+` (add); give about three lines of context around each \
change. `*** Move to: <path>` right after `*** Update File:` renames. Prefer apply_patch to \
editing files through the shell."""

_CODE_RULES = """\
# How to work

- Read the relevant code before changing it. Keep changes focused on the task and in the \
style of the code around them.
- Follow the AGENTS.md instructions below, including the tests, linters and type checks they \
ask for. Run them after your changes and fix what fails; if something cannot pass, say why.
- Do not commit, switch branches or rewrite history: taskyard commits your changes on the \
task branch when you finish.
- There is no network access unless the task says otherwise; do not try to install packages \
from the internet."""

_ASK_RULES = """\
# How to work

This is an ask task: answer the question. Do not modify, create or delete files, and run no \
commands that change the repository; reading files and running read-only commands (tests \
included) is fine. Follow the AGENTS.md instructions below where they apply. There is no \
network access unless the task says otherwise."""

_CODE_ANSWER = """\
# Final answer

A message without tool calls ends the task, so send one only when you are done. Write it in \
Markdown with two parts: **Summary**, what you changed and why, and **Testing**, each check \
you ran and its result. Be concise."""

_ASK_ANSWER = """\
# Final answer

A message without tool calls ends the task, so send one only when you are done. Answer the \
question directly in Markdown, then give the evidence. Be concise."""

_CITATIONS = """\
Back every claim about the code or a command's result with a citation:
- a file: 【F:<path>†L<start>-L<end>】, path relative to {repo_dir}, line numbers of the file \
as it is when you finish;
- command output: 【<chunk_id>†L<start>-L<end>】, line numbers of that command's output.
For one line write †L<n>. Cite the narrowest range that shows the point, e.g. \
【F:src/app.py†L12-L18】 or 【c3f9a2†L4-L9】 for a failing test. Cite only lines you have seen."""

_AGENTS_INTRO = """\
# AGENTS.md

The repository's own instructions for agents. Each file applies to its directory and \
everything below it; where they conflict, the deeper file wins, and the task wins over all."""

_NO_AGENTS = """\
# AGENTS.md

No AGENTS.md applies here; find how to build and test from the README, Makefile, CI \
configuration or package manifests."""


def _agents_section(agents_docs: list[AgentsDoc]) -> str:
    if not agents_docs:
        return _NO_AGENTS
    blocks = [_AGENTS_INTRO]
    for doc in agents_docs:
        note = f"\n[truncated: {doc.size} bytes in full]" if doc.truncated else ""
        blocks.append(f'<agents_md path="{doc.path}">\n{doc.content.strip()}{note}\n</agents_md>')
    return "\n\n".join(blocks)


def build_instructions(mode: Mode, agents_docs: list[AgentsDoc], repo_dir: str) -> str:
    """System instructions for an agent working in `repo_dir`, AGENTS.md files root first."""
    tools = [_TOOLS] + ([_APPLY_PATCH] if mode == "code" else [])
    rules = _CODE_RULES if mode == "code" else _ASK_RULES
    answer = _CODE_ANSWER if mode == "code" else _ASK_ANSWER
    parts = [_ROLE, "\n\n".join(tools), rules, f"{answer}\n\n{_CITATIONS}"]
    body = "\n\n".join(part.format(repo_dir=repo_dir) for part in parts)
    return f"{body}\n\n{_agents_section(agents_docs)}\n"


def user_prompt(task: str, workdir: str = "") -> str:
    """The first user message: the task, and the directory it concerns when not the root."""
    text = task.strip()
    return f"{text}\n\n(Working directory: {workdir})" if workdir.strip("./") else text
