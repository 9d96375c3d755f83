#!/usr/bin/env bash
# make_venv.sh VENV PYTHON REQUIREMENTS CONSTRAINTS: create or update a virtualenv.
# Called by make only when the requirement files are newer than the venv's stamp.
set -euo pipefail
venv=$1 python=$2 reqs=$3 constraints=$4
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "[setup] $venv was built with another Python: recreating it"
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating $venv with $python"
  "$python" -m venv "$venv"
fi
echo "[setup] installing $reqs into $venv (first time: a few minutes)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip<25" "setuptools<70" wheel
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" -c "$constraints"
