"""Long jobs staff start from the console: the Commerce7 catalog sync (`make sync`) and the
knowledge re-index (`make index`), run as the same scripts, one of each kind at a time, with
their progress (the script's last output line) and a history in console_jobs."""
from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from typing import Optional

from console.db import ConsoleDB
from core.paths import ROOT

COMMANDS = {"sync": ["-m", "scripts.sync"], "index": ["-m", "scripts.index"]}
LABELS = {"sync": "Catalog sync", "index": "Knowledge re-index"}


class AlreadyRunning(Exception):
    """409: a job of that kind is running; the message says since when and who started it."""


class Jobs:
    def __init__(self, db: ConsoleDB) -> None:
        self.db = db
        self.progress: dict[str, str] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.again: set[str] = set()  # re-run once the current run ends (a page saved during an index run)
        with db.transaction() as tx:  # a console that stopped mid-job left its row running
            tx.run("UPDATE console_jobs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                   (time.time(),))

    def running(self, kind: str) -> bool:
        task = self.tasks.get(kind)
        return task is not None and not task.done()

    def start(self, kind: str, by: str) -> str:
        if self.running(kind):
            row = self.db.one("SELECT started_by, started_at FROM console_jobs WHERE kind = ? AND status = 'running' "
                              "ORDER BY started_at DESC", (kind,))
            since = time.strftime("%H:%M", time.localtime(row[1])) if row else "a moment ago"
            raise AlreadyRunning(f"{LABELS[kind]} is already running (started by {row[0] if row else 'someone'} at "
                                 f"{since}); wait for it to finish")
        job_id = uuid.uuid4().hex
        self.db.run("INSERT INTO console_jobs (id, kind, started_at, status, progress, started_by) "
                    "VALUES (?, ?, ?, 'running', '', ?)", (job_id, kind, time.time(), by[:80]))
        self.progress[kind] = "starting"
        self.tasks[kind] = asyncio.create_task(self._run(kind, job_id, by))
        return job_id

    def start_or_queue(self, kind: str, by: str) -> str:
        """Start now, or once the running job of that kind ends."""
        try:
            self.start(kind, by)
            return "started"
        except AlreadyRunning:
            self.again.add(kind)
            return "queued"

    async def _run(self, kind: str, job_id: str, by: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        proc = await asyncio.create_subprocess_exec(sys.executable, *COMMANDS[kind], cwd=ROOT, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self.procs[kind] = proc
        tail = ""
        assert proc.stdout
        while True:
            chunk = await proc.stdout.read(512)
            if not chunk:
                break
            tail = (tail + chunk.decode(errors="replace"))[-4000:]
            lines = [p.strip() for p in tail.replace("\r", "\n").split("\n") if p.strip()]
            if lines:
                self.progress[kind] = lines[-1][-200:]
                await asyncio.to_thread(self.db.run, "UPDATE console_jobs SET progress = ? WHERE id = ?",
                                        (self.progress[kind], job_id))
        code = await proc.wait()
        summary = self.progress.get(kind, "")
        await asyncio.to_thread(self.db.run, "UPDATE console_jobs SET status = ?, finished_at = ?, summary = ? "
                                "WHERE id = ?", ("ok" if code == 0 else "failed", time.time(), summary, job_id))
        if kind in self.again:
            self.again.discard(kind)
            self.tasks.pop(kind, None)
            self.start(kind, by)

    def history(self, kind: Optional[str] = None, limit: int = 20) -> list[dict]:
        sql = "SELECT id, kind, started_at, finished_at, status, progress, summary, started_by FROM console_jobs"
        params: list = []
        if kind:
            sql += " WHERE kind = ?"
            params.append(kind)
        rows = self.db.all(sql + " ORDER BY started_at DESC LIMIT ?", params + [limit])
        keys = ("id", "kind", "started_at", "finished_at", "status", "progress", "summary", "started_by")
        return [dict(zip(keys, r)) for r in rows]

    async def close(self) -> None:
        """Stopping the console stops its jobs (their rows say 'interrupted' at the next start)."""
        for kind, proc in self.procs.items():
            if proc.returncode is None:
                proc.terminate()
        for task in self.tasks.values():
            task.cancel()
