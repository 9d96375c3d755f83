"""`make cluster` (scripts/cluster.py) stops on SIGTERM while it starts, and when its supervisor is
killed with SIGKILL once it serves, every process goes with it: Rasa replicas, action servers,
Chroma, the jobs, the widget, nginx's master and its workers. Each time every port is free and
no process of the cluster is left within 30 s."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.test_run_signals import GONE_WITHIN_S, port_free, stack_processes, wait_until
from tests.production.cluster import Cluster
from tests.production.services import require

from core.paths import ROOT


def ports(cluster: Cluster) -> list[int]:
    return [cluster.port, cluster.action_port, *cluster.replica_ports, cluster.action_base_port,
            cluster.action_base_port + 1, cluster.chroma_port, cluster.widget_port, cluster.c7_port]


def nginx_processes(cluster: Cluster) -> list[int]:
    """nginx rewrites its environment (its process title), so: the master by its config path, and
    the workers by their parent."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                table[int(entry.name)] = (cmdline, int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]))
            except (OSError, ValueError, IndexError):
                continue
    masters = [pid for pid, (cmdline, _) in table.items()
               if "nginx: master" in cmdline and str(cluster.data_dir) in cmdline]
    return masters + [pid for pid, (_, parent) in table.items() if parent in masters]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def assert_cluster_gone(cluster: Cluster, known: list[int]) -> None:
    def gone() -> bool:
        return not stack_processes(cluster.data_dir) and not nginx_processes(cluster) and \
            not any(alive(p) for p in known) and all(port_free(p) for p in ports(cluster))
    assert wait_until(gone, GONE_WITHIN_S), (stack_processes(cluster.data_dir), nginx_processes(cluster),
                                             [p for p in known if alive(p)],
                                             [p for p in ports(cluster) if not port_free(p)], cluster.tail())


def test_sigterm_while_the_cluster_starts_stops_everything(tmp_path):
    require("PostgreSQL", "Redis", "RabbitMQ")
    cluster = Cluster(tmp_path)
    with open(cluster.log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "scripts.cluster"], cwd=ROOT, env=cluster.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_until(lambda: "   rasa1 |" in cluster.tail(100_000) or proc.poll() is not None, 300), \
            cluster.tail()
        assert proc.poll() is None, cluster.tail()
        known = stack_processes(cluster.data_dir) + nginx_processes(cluster)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=GONE_WITHIN_S)
        assert_cluster_gone(cluster, known)
    finally:
        cluster.proc = proc
        cluster.stop()


def test_sigkill_of_the_supervisor_takes_the_whole_cluster_down(tmp_path):
    require("PostgreSQL", "Redis", "RabbitMQ")
    cluster = Cluster(tmp_path).start()
    try:
        nginx = nginx_processes(cluster)
        assert len(nginx) >= 2, "nginx's master and its workers (grandchildren) are what this test is about"
        known = stack_processes(cluster.data_dir) + nginx
        os.kill(cluster.proc.pid, signal.SIGKILL)
        cluster.proc.wait(timeout=10)
        assert_cluster_gone(cluster, known)
    finally:
        cluster.stop()
