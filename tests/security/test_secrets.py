"""Secrets stay out of what other users of the machine and the logs see: the Rasa token is on no
process's command line (ps, /proc/<pid>/cmdline) and in no start-up line of the running assistant."""
from __future__ import annotations

from pathlib import Path


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_rasa_token_is_on_no_command_line_and_in_no_log_line(target):
    processes = descendants(target.proc.pid)
    lines = [command_line(pid) for pid in processes]
    assert any(" run " in f" {line} " and "--enable-api" in line for line in lines), lines  # Rasa is among them
    assert not [line for line in lines if target.token in line]
    assert target.token not in target.log_path.read_text(errors="replace")
