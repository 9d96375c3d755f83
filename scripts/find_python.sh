#!/usr/bin/env bash
# Print a Python 3.10 interpreter: python3.10 on PATH, else pyenv's newest 3.10.x.
# Rasa 3.6 runs on nothing newer, so anything else is refused with one clear line.
set -u
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
for candidate in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)"; do
  if [ -n "$candidate" ] && is310 "$candidate"; then echo "$candidate"; exit 0; fi
done
for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do
  if is310 "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "error: Python 3.10 is required (Rasa 3.6 does not run on newer Pythons). Install python3.10 (e.g. 'apt install python3.10' or 'pyenv install 3.10') and run make again." >&2
exit 1
