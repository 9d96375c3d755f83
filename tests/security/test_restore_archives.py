"""`make restore` given a hostile archive (someone swapped a backup file): it refuses, and writes
nothing outside the data folder. Through the command line, as an operator runs it."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from core.paths import ROOT
from jobs.datacare import FORMAT


def restore(tmp_path: Path, archive: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB_URL", "FEEDBACK_DB_URL", "OUTBOX_DB_URL",
                                                            "SMS_DB_URL", "CHROMA_URL")}
    env.update({"MILEA_DATA_DIR": str(tmp_path / "site" / "data"), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "jobs.datacare", "restore", str(archive)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def archive_of(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    return info


def manifest(*files: str) -> tuple[tarfile.TarInfo, bytes]:
    body = {"format": FORMAT, "databases": [{"kind": "sqlite", "file": f} for f in files], "knowledge": []}
    return entry("manifest.json"), json.dumps(body).encode()


def outside(tmp_path: Path) -> set[str]:
    """Every file under tmp_path except the data folder's."""
    return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
            if p.is_file() and "data" not in p.relative_to(tmp_path).parts}


@pytest.mark.parametrize("name", ["../outside.db", "../../outside.db", "/tmp/milea-outside.db", "sub/../../x.db"])
def test_a_manifest_naming_a_file_outside_the_data_folder_is_refused(tmp_path, name):
    archive = archive_of(tmp_path / "evil.tar.gz", [manifest(name), (entry("knowledge", tarfile.DIRTYPE), b"")])
    before = outside(tmp_path)
    result = restore(tmp_path, archive)
    assert result.returncode != 0 and "unexpected" in (result.stdout + result.stderr)
    assert "Traceback" not in result.stderr
    assert outside(tmp_path) == before and not Path("/tmp/milea-outside.db").exists()


@pytest.mark.parametrize("member", [
    entry("../escape.txt"), entry("/abs.txt"), entry("knowledge/../../escape.txt"),
    entry("link", tarfile.SYMTYPE, "/etc"), entry("knowledge/hard", tarfile.LNKTYPE, "/etc/passwd"),
    entry("dev", tarfile.CHRTYPE), entry("fifo", tarfile.FIFOTYPE),
], ids=lambda m: m.name)
def test_members_outside_the_target_links_and_devices_are_refused(tmp_path, member):
    archive = archive_of(tmp_path / "evil.tar.gz", [manifest(), (member, b"x")])
    before = outside(tmp_path)
    result = restore(tmp_path, archive)
    assert result.returncode != 0 and "unexpected" in (result.stdout + result.stderr)
    assert outside(tmp_path) == before
