"""Closed-loop load: 1, 5, 20 and 50 concurrent users on REST and socket.io, on a
vanilla `rasa init` bot and on the assistant (and the nginx cluster), in one run.

Every user sends a fixed-seed mix of greetings, hours, knowledge and wine
questions in its own conversations (a new one every 10 turns) and sends the next
message as soon as the answer is complete: no think time, so the load is as high
as the server allows. Each level lasts --warmup + --duration seconds (and at most
--max-messages messages). Per level and channel: p50/p95/p99 latency (all turns and
per kind of turn), throughput, errors, turns per user (starvation shows there),
and for each process of the target (Rasa server, action server, Commerce7
emulator, nginx, ...) the peak RSS of its process tree, sampled from /proc every
0.2 s, and the CPU it used per answered message (steadier than wall-clock numbers
on a shared machine).

Writes bench/results/load.json (with the ratios the production profile targets)
and bench/results/load.png.

    .venv/actions/bin/python -m bench.load                     # the full run (~8 min)
    .venv/actions/bin/python -m bench.load --targets vanilla,assistant,cluster   # + ~4 min
    .venv/actions/bin/python -m bench.load --levels 1,20 --duration 8 --name load-dev
    .venv/actions/bin/python -m bench.load --targets http://127.0.0.1:5005 --levels 20   # a running `make run`

A deployment is a Target: a URL and a function naming its processes; adding one
is one factory in TARGETS.
"""
from __future__ import annotations

import argparse
import logging
import os
import queue
import random
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import requests
import socketio

from bench.common import RESULTS, VANILLA, VanillaBot, summarise, write_result
from tests.integration.stack import Stack, free_port

LEVELS = (1, 5, 20, 50)
CHANNELS = ("rest", "socketio")
SEED = 1234
SAMPLE_S = 0.2
TURN_TIMEOUT_S = 60.0
# socket.io: after the expected number of messages has not arrived, this much silence
# after the last message ends the turn (see SocketUser.turn).
QUIET_S = 1.0

# Each kind of turn has a few phrasings (the first is the one bench/rest_latency.py uses), so
# that the NLU and the knowledge search see more than one sentence. A small pool is what an FAQ
# bot sees in production too: the knowledge answer cache serves the repeats.
MIX: dict[str, tuple[str, ...]] = {
    "greeting": ("hello", "hi", "hey there", "hiya"),
    "hours": ("are you open on sunday?", "what are your hours", "when are you open", "are you open tomorrow?"),
    "knowledge": ("can i bring my dog?", "where are you located", "are kids allowed", "how much is a tasting"),
    "wine": ("how much is the reserve cabernet franc?", "reserve cabernet franc tasting notes",
             "what wine goes with steak", "what red wines do you have"),
}


# ---------------------------------------------------------------- targets

@dataclass
class Target:
    """A deployment under load: where its channels listen, and which processes are its.

    `processes()` maps a role name to the root PID of that role; every descendant of
    a root (that is not itself a root) is counted with it.
    """
    name: str
    url: str
    processes: Callable[[], dict[str, int]]
    stop: Callable[[], None]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def role_of(cmdline: str) -> str:
    """A short, stable name for a process of ours from its command line."""
    rules = (("rasa_sdk", "actions"), ("scripts.action_server", "actions"), ("commerce7_demo.emulator", "c7-emulator"),
             ("jobs.scheduler", "jobs"), ("scripts.processes", "watchdog"), ("scripts.serve_widget", "widget"),
             ("scripts.rasa_server", "rasa"), ("scripts.run", "supervisor"), ("nginx", "nginx"), ("rasa run", "rasa"), ("bin/rasa", "rasa"))
    return next((role for needle, role in rules if needle in cmdline), Path(cmdline.split(" ")[0] or "?").name)


def name_processes(pids: Union[dict, Iterable[int]]) -> dict[str, int]:
    """Role names for a list of PIDs (a dict of name -> PID is kept as it is)."""
    if isinstance(pids, dict):
        return {str(k): int(v) for k, v in pids.items()}
    named: dict[str, int] = {}
    for pid in pids:
        role = base = role_of(_cmdline(pid))
        n = 1
        while role in named:
            n += 1
            role = f"{base}-{n}"
        named[role] = int(pid)
    return named


def children_of(pid: int) -> list[int]:
    return [p for p, (ppid, _, _) in proc_table().items() if ppid == pid]


VANILLA_TRAININGS = 5


def silent_turns(url: str, users: int = 6, conversations: int = 3, turns: int = 10) -> int:
    """How many turns of the benchmark's own scripts (REST) a deployment answers with nothing."""
    silent = 0
    for user in range(users):
        lines = script(SEED, "rest", 20, user)
        for conversation in range(conversations):
            sender = f"probe-{uuid.uuid4().hex[:8]}-{user}-{conversation}"
            for _ in range(turns):
                reply = requests.post(f"{url}/webhooks/rest/webhook", timeout=TURN_TIMEOUT_S,
                                      json={"sender": sender, "message": next(lines)[1]})
                reply.raise_for_status()
                silent += not reply.json()
    return silent


def start_vanilla() -> Target:
    """The moodbot of `rasa init`, trained until it answers every turn of the scripts.

    Its policies have no fixed seed, and some trainings answer a few of the mix's turns (about
    3 in 100) with nothing: such a bot would be measured doing less than a bot that answers,
    and on socket.io a turn without an answer is only over at TURN_TIMEOUT_S. Only the random
    start differs between trainings; project, config and data stay `rasa init`'s.
    """
    bot = VanillaBot(free_port())
    bot.ensure_trained()
    # `rasa run` reads credentials.yml of its folder: REST plus the same socket.io settings as ours.
    (VANILLA / "credentials.yml").write_text(
        "rest:\n\nsocketio:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"
        "  session_persistence: true\n  socketio_path: /socket.io\n")
    for training in range(1, VANILLA_TRAININGS + 1):
        bot.start()
        silent = silent_turns(f"http://127.0.0.1:{bot.port}")
        if not silent:
            break
        bot.stop()
        if training == VANILLA_TRAININGS:
            raise RuntimeError(f"vanilla: {VANILLA_TRAININGS} trainings, each silent on some turns")
        print(f"[load] vanilla answered {silent} probe turns with nothing: training it again", flush=True)
        bot.retrain()
    return Target("vanilla", f"http://127.0.0.1:{bot.port}", lambda: {"rasa": bot.proc.pid}, bot.stop)


def start_assistant() -> Target:
    stack = Stack(Path(tempfile.mkdtemp(prefix="milea-load-"))).start()

    def processes() -> dict[str, int]:
        # scripts/run.py starts each service in its own session, as its direct child.
        return {"supervisor": stack.proc.pid, **name_processes(children_of(stack.proc.pid))}

    return Target("assistant", stack.url, processes, stack.stop)


def start_cluster() -> Target:
    """The production profile (`make cluster`): two Rasa replicas behind nginx, PostgreSQL, Redis
    and RabbitMQ (those three must be running). Its URL is the nginx front; its supervisor keeps
    the PIDs of everything it started (nginx, rasa1, rasa2, actions1, ...)."""
    from tests.production.cluster import Cluster  # only when asked for

    cluster = Cluster(Path(tempfile.mkdtemp(prefix="milea-load-cluster-"))).start()
    return Target("cluster", cluster.url, lambda: {"supervisor": cluster.proc.pid, **name_processes(cluster.pids())},
                  cluster.stop)


TARGETS: dict[str, Callable[[], Target]] = {
    "vanilla": start_vanilla, "assistant": start_assistant, "cluster": start_cluster,
}


# ---------------------------------------------------------------- /proc sampling

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def proc_table() -> dict[int, tuple[int, int, float]]:
    """pid -> (parent pid, RSS bytes, CPU seconds) for every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()  # after "pid (comm) "
        # fields[0] is state: ppid=1, utime=11, stime=12, rss=21 (man proc, counted from state)
        table[int(entry.name)] = (int(fields[1]), int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICK)
    return table


def attribute(table: dict, roots: dict[str, int]) -> dict[str, tuple[int, float]]:
    """(RSS bytes, CPU s) per role: each process counts for its nearest ancestor that is a root."""
    by_root = {pid: role for role, pid in roots.items()}
    totals = {role: [0, 0.0] for role in roots}
    for pid, (ppid, rss, cpu) in table.items():
        node, hops = pid, 0
        while node not in by_root and node > 1 and hops < 64:
            node, hops = table.get(node, (0,))[0], hops + 1
        if node in by_root:
            acc = totals[by_root[node]]
            acc[0] += rss
            acc[1] += cpu
    return {role: (rss, cpu) for role, (rss, cpu) in totals.items()}


IDLE_CPU_SHARE = 0.05  # of one core, over IDLE_WINDOW_S
IDLE_WINDOW_S = 1.0
IDLE_WAIT_MAX_S = 20.0


def wait_until_idle(target: Target) -> float:
    """Wait until the target's processes use under IDLE_CPU_SHARE of a core for IDLE_WINDOW_S (turns
    still queued from the level before, a tracker save, a vacuum), at most IDLE_WAIT_MAX_S.

    Returns: the seconds waited. A fixed pause let a level start on a server still busy with
    the one before (one run: vanilla 42 msg/s after a 1 s pause, 52-60 after 7 s).
    """
    started = time.perf_counter()
    roots = target.processes()
    if not roots:  # a deployment measured from outside: nothing to watch
        time.sleep(1)
        return time.perf_counter() - started

    def cpu() -> float:
        return sum(used for _, used in attribute(proc_table(), roots).values())

    before = cpu()
    while time.perf_counter() - started < IDLE_WAIT_MAX_S:
        time.sleep(IDLE_WINDOW_S)
        now = cpu()
        if now - before < IDLE_CPU_SHARE * IDLE_WINDOW_S:
            break
        before = now
    return time.perf_counter() - started


class MemorySampler:
    """Peak RSS per role (and of the whole target) from /proc every SAMPLE_S seconds."""

    def __init__(self, target: Target) -> None:
        self.roots = target.processes()
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.cpu_start = {role: cpu for role, (_, cpu) in attribute(proc_table(), self.roots).items()}
        self.cpu_used: dict[str, float] = {}

    def _sample(self) -> dict[str, tuple[int, float]]:
        now = attribute(proc_table(), self.roots)
        for role, (rss, _) in now.items():
            self.peak[role] = max(self.peak.get(role, 0), rss)
        self.peak_total = max(self.peak_total, sum(rss for rss, _ in now.values()))
        self.samples += 1
        return now

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def __enter__(self) -> "MemorySampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        last = self._sample()
        self.cpu_used = {role: round(cpu - self.cpu_start.get(role, 0.0), 2) for role, (_, cpu) in last.items()}

    def result(self) -> dict:
        mb = 1024 * 1024
        return {"peak_rss_mb": {role: round(v / mb, 1) for role, v in sorted(self.peak.items())},
                "peak_rss_total_mb": round(self.peak_total / mb, 1), "rss_samples": self.samples,
                "cpu_s": dict(sorted(self.cpu_used.items()))}


# ---------------------------------------------------------------- users

def script(seed: int, channel: str, level: int, user: int) -> Iterator[tuple[str, str]]:
    """An endless, reproducible mix: every four turns hold one of each kind, in a random order."""
    rng = random.Random(f"{seed}/{channel}/{level}/{user}")
    kinds = list(MIX)
    while True:
        rng.shuffle(kinds)
        for kind in kinds:
            yield kind, rng.choice(MIX[kind])


@dataclass
class Turn:
    kind: str
    sent: float
    done: float
    ok: bool
    error: str = ""
    first: float = 0.0  # socket.io: when the first message of the answer arrived
    by_quiet_gap: bool = False
    user: int = -1


class Run:
    """The shared clock and message budget of one level."""

    def __init__(self, users: int, warmup_s: float, duration_s: float, max_messages: int,
                 turns_per_conversation: int = 0) -> None:
        self.users = users
        self.turns_per_conversation = turns_per_conversation
        self.warmup_s, self.duration_s, self.max_messages = warmup_s, duration_s, max_messages
        # The clock starts when the last user is ready (the barrier's action runs before anyone goes on).
        self.ready = threading.Barrier(users + 1, action=self.begin)
        self.turns: list[Turn] = []
        self.setup_errors: list[str] = []
        self.extra_messages = 0
        self._lock = threading.Lock()
        self._sent = 0
        self.start, self.deadline = 0.0, float("inf")
        self.budget_spent_at: Optional[float] = None

    def begin(self) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + self.warmup_s + self.duration_s

    def may_send(self) -> bool:
        with self._lock:
            if time.perf_counter() >= self.deadline or self._sent >= self.max_messages:
                return False
            self._sent += 1
            if self._sent == self.max_messages:
                self.budget_spent_at = time.perf_counter()
            return True

    def conversation_id(self, user: str, turn: int) -> str:
        """A user's conversation for its n-th turn: a new one every `turns_per_conversation` turns."""
        return f"{user}-c{turn // self.turns_per_conversation}" if self.turns_per_conversation else user

    def count_extra(self) -> None:
        with self._lock:
            self.extra_messages += 1

    def record(self, turn: Turn, user: int) -> None:
        turn.user = user
        with self._lock:
            self.turns.append(turn)


def rest_user(url: str, user: int, conversation: str, turns: Iterator[tuple[str, str]], run: Run) -> None:
    session = requests.Session()  # keep-alive, like a browser
    try:
        # Connect before the clock starts, as the socket.io users do (and a browser that has
        # loaded the page). Without it, 50 users connecting at once under full load left some
        # first requests unanswered until the others stopped (Sanic serves the open keep-alive
        # connections first), which measured the connect storm rather than the bot.
        session.get(f"{url}/", timeout=TURN_TIMEOUT_S)
    except requests.RequestException as exc:
        run.setup_errors.append(f"connect: {type(exc).__name__}")
    try:
        run.ready.wait(120)
    except threading.BrokenBarrierError:
        return
    n = 0
    while run.may_send():
        kind, text = next(turns)
        sender = run.conversation_id(conversation, n)
        n += 1
        sent = time.perf_counter()
        try:
            reply = session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 timeout=TURN_TIMEOUT_S)
            reply.raise_for_status()
            ok, error = bool(reply.json()), ""
            if not ok:
                error = "empty reply"
        except Exception as exc:  # counted, not raised: the numbers say how many failed
            ok, error = False, type(exc).__name__
        run.record(Turn(kind, sent, time.perf_counter(), ok, error), user)
    session.close()


def socket_messages(rest_replies: list[dict]) -> int:
    """How many bot_uttered events the REST replies of a turn become on socket.io.

    Rasa's CollectingOutputChannel (REST) splits plain text on blank lines but keeps text with
    buttons whole; SocketIOOutput splits both. Images, attachments and custom payloads are one
    message on either.
    """
    count = 0
    for message in rest_replies:
        if message.get("buttons") and message.get("text"):
            count += len(message["text"].strip().split("\n\n"))
        else:
            count += 1
    return count


class SocketUser:
    """One widget session.

    When is a turn over? Rasa sends each bot message as its own bot_uttered event as soon as
    the action that says it has run, with no end-of-turn marker. A fixed quiet gap after the
    first message would either cut multi-message answers short (a slow action between two
    messages) or add the gap to every turn and to the closed loop. So the turn ends when the
    number of messages the same sentence gets over REST has arrived (`expected`, counted with
    socket_messages on a fresh conversation before the load). The count can differ later in a
    conversation (another rule or story fires); then QUIET_S of silence after the last message
    ends the turn, its latency is taken at that last message, and `by_quiet_gap` counts such
    turns. Messages still arriving when the next turn starts are counted as `extra_messages`
    and dropped; both counts are in the results, so a mismatch is visible, not hidden.
    """

    def __init__(self, url: str, conversation: str, expected: dict[str, int]) -> None:
        self.url, self.conversation, self.expected = url, conversation, expected
        self.replies: "queue.Queue[float]" = queue.Queue()
        self.confirmed = threading.Event()
        self.session_id: Optional[str] = None
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", lambda _data: self.replies.put(time.perf_counter()))
        self.sio.on("session_confirm", self._confirmed)

    def _confirmed(self, session_id: Any) -> None:
        self.session_id = session_id.get("session_id") if isinstance(session_id, dict) else session_id
        self.confirmed.set()

    def open(self) -> None:
        # ?sticky= as the widget sends it: nginx in front of replicas pins the session by it (not
        # by address, which would put every user of this one-machine benchmark on one replica).
        self.sio.connect(f"{self.url}?sticky={self.conversation}", socketio_path="/socket.io",
                         transports=["websocket"], wait_timeout=30)
        self.start_session(self.conversation)

    def start_session(self, conversation: str) -> None:
        """What the widget does on load: ask for a conversation and keep the session id the server
        confirms (ours issues its own; vanilla Rasa takes the one asked for). Untimed."""
        self.confirmed.clear()
        self.conversation = conversation
        self.sio.emit("session_request", {"session_id": None})
        if not self.confirmed.wait(30):
            raise TimeoutError("no session_confirm")

    def turn(self, kind: str, text: str, run: Run) -> Turn:
        while not self.replies.empty():
            self.replies.get_nowait()
            run.count_extra()
        want = self.expected.get(text, 1)
        sent = time.perf_counter()
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        try:
            first = last = self.replies.get(timeout=TURN_TIMEOUT_S)
        except queue.Empty:
            return Turn(kind, sent, time.perf_counter(), False, "timeout")
        got = 1
        while got < want:
            try:
                last = self.replies.get(timeout=QUIET_S)
                got += 1
            except queue.Empty:
                return Turn(kind, sent, last, True, first=first, by_quiet_gap=True)
        return Turn(kind, sent, last, True, first=first)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


def socket_user(url: str, index: int, conversation: str, turns: Iterator[tuple[str, str]], run: Run,
                expected: dict[str, int]) -> None:
    user = SocketUser(url, run.conversation_id(conversation, 0), expected)
    try:
        user.open()
    except Exception as exc:  # counted; the other users still run
        run.setup_errors.append(f"connect: {type(exc).__name__}")
        user.close()
        user = None
    try:
        run.ready.wait(120)
    except threading.BrokenBarrierError:
        pass
    if user is None:
        return
    n = 0
    try:
        while run.may_send():
            kind, text = next(turns)
            sender = run.conversation_id(conversation, n)
            n += 1
            if sender != user.conversation:
                try:
                    user.start_session(sender)
                except Exception as exc:
                    run.record(Turn(kind, time.perf_counter(), time.perf_counter(), False, type(exc).__name__), index)
                    break
            run.record(user.turn(kind, text, run), index)
    finally:
        user.close()


def expected_socket_messages(url: str) -> dict[str, int]:
    out = {}
    for texts in MIX.values():
        for text in texts:
            reply = requests.post(f"{url}/webhooks/rest/webhook", timeout=TURN_TIMEOUT_S,
                                  json={"sender": f"calibrate-{uuid.uuid4().hex[:8]}", "message": text})
            reply.raise_for_status()
            out[text] = socket_messages(reply.json())
    return out


# ---------------------------------------------------------------- one level

def run_level(target: Target, channel: str, users: int, args: argparse.Namespace, expected: dict[str, int],
              run_id: str) -> dict:
    run = Run(users, args.warmup, args.duration, args.max_messages, args.turns_per_conversation)
    threads = []
    for i in range(users):
        label = "".join(c if c.isalnum() else "_" for c in target.name)[-24:]
        conversation = f"load-{run_id}-{label}-{channel}-{users}-{i}"
        turns = script(args.seed, channel, users, i)
        if channel == "rest":
            t = threading.Thread(target=rest_user, args=(target.url, i, conversation, turns, run), daemon=True)
        else:
            t = threading.Thread(target=socket_user, args=(target.url, i, conversation, turns, run, expected),
                                 daemon=True)
        threads.append(t)
        t.start()
    with MemorySampler(target) as sampler:
        try:
            run.ready.wait(120)  # every user connected: the clock starts together
        except threading.BrokenBarrierError:
            run.begin()
        for t in threads:
            t.join(args.warmup + args.duration + TURN_TIMEOUT_S + 30)
        finished = time.perf_counter()
    numbers = {**level_numbers(run, finished), **sampler.result()}
    if args.dump_turns:  # every turn, for looking into a distribution
        numbers["turns"] = [[t.user, t.kind, round(t.sent - run.start, 3), round((t.done - t.sent) * 1000, 1), t.ok]
                            for t in sorted(run.turns, key=lambda t: t.sent)]
    # CPU per answered message: steadier than wall-clock numbers on a shared machine.
    answered = max(1, sum(t.ok for t in run.turns))
    numbers["cpu_ms_per_msg"] = {role: round(cpu * 1000 / answered, 1) for role, cpu in numbers["cpu_s"].items()}
    return numbers


def level_numbers(run: Run, finished: float) -> dict:
    window_start = run.start + run.warmup_s
    # Turns sent after the warm-up (and before the deadline) give the latencies.
    measured = [t for t in run.turns if t.sent >= window_start]
    good = [t for t in measured if t.ok]
    # Throughput: answers completed inside the window, over the window. The window ends at the
    # deadline, or at the last answer when the message budget ran out first.
    window_end = run.deadline
    if run.budget_spent_at is not None and run.budget_spent_at < run.deadline:
        window_end = max((t.done for t in run.turns), default=run.deadline)
    completed = [t for t in run.turns if t.ok and window_start <= t.done <= window_end]
    span = max(window_end - window_start, 1e-6)
    out = {
        "users": run.users,
        "messages": len(run.turns),
        "measured": len(good),
        "errors": sum(not t.ok for t in run.turns) + len(run.setup_errors),
        "error_kinds": sorted({t.error for t in run.turns if t.error} | set(run.setup_errors))[:5],
        "throughput_msg_s": round(len(completed) / span, 2),
        "window_s": round(span, 1),
        "wall_s": round(finished - run.start, 1),
        "latency": summarise([t.done - t.sent for t in good]) if good else None,
        "by_kind": {kind: summarise([t.done - t.sent for t in good if t.kind == kind])
                    for kind in MIX if any(t.kind == kind for t in good)},
    }
    # Starvation shows as users with few turns; turns sent in the warm-up are not in "latency".
    per_user = [sum(1 for t in run.turns if t.user == u) for u in range(run.users)]
    out["turns_per_user"] = {"min": min(per_user), "max": max(per_user)}
    out["slowest_turn_ms"] = round(max((t.done - t.sent for t in run.turns), default=0.0) * 1000, 1)
    firsts = [t.first - t.sent for t in good if t.first]
    if firsts:
        out["first_message_latency"] = summarise(firsts)
        out["turns_ended_by_quiet_gap"] = sum(t.by_quiet_gap for t in run.turns)
        out["extra_messages"] = run.extra_messages
    return out


# ---------------------------------------------------------------- whole run

def running(url: str) -> Target:
    """A deployment started elsewhere (e.g. `make run`): measured, not started, stopped or weighed."""
    return Target(url, url.rstrip("/"), dict, lambda: None)


def measure_target(name: str, args: argparse.Namespace, run_id: str) -> dict:
    print(f"[load] starting {name}", flush=True)
    started = time.perf_counter()
    target = running(name) if name.startswith("http") else TARGETS[name]()
    result: dict = {"start_s": round(time.perf_counter() - started, 1)}
    try:
        table = proc_table()
        result["idle_rss_mb"] = {role: round(rss / 2**20, 1)
                                 for role, (rss, _) in attribute(table, target.processes()).items()}
        for kind, texts in MIX.items():  # warm every code path once, untimed
            for text in texts:
                requests.post(f"{target.url}/webhooks/rest/webhook", timeout=TURN_TIMEOUT_S,
                              json={"sender": f"warm-{run_id}", "message": text})
        expected = expected_socket_messages(target.url) if "socketio" in args.channels else {}
        result["socketio_expected_messages"] = expected
        for channel in args.channels:
            result[channel] = {}
            for users in args.levels:
                numbers = run_level(target, channel, users, args, expected, run_id)
                result[channel][str(users)] = numbers
                lat = numbers["latency"] or {}
                print(f"[load] {name:<10}{channel:<9}{users:>3} users  p50 {lat.get('p50_ms', '-'):>8} ms  "
                      f"p95 {lat.get('p95_ms', '-'):>8} ms  {numbers['throughput_msg_s']:>6} msg/s  "
                      f"errors {numbers['errors']}  rss {numbers['peak_rss_total_mb']} MB", flush=True)
                numbers["idle_wait_after_s"] = round(wait_until_idle(target), 1)
    finally:
        target.stop()
    return result


def _get(results: dict, target: str, channel: str, users: int, *path: str) -> Optional[float]:
    node = results.get(target, {}).get(channel, {}).get(str(users))
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a is not None and b else None


# Issue 13's targets: (name, channel, users, metric path, compared with, its path, op, limit). "vanilla"
# is vanilla Rasa measured in the same run; None is the same deployment (knowledge answer vs greeting).
TARGET_CHECKS = [
    (f"{name}_{channel}", channel, users, path, base, base_path or path, op, limit)
    for channel in CHANNELS
    for name, users, path, base, base_path, op, limit in (
        ("single_user_p50_vs_vanilla", 1, ("latency", "p50_ms"), "vanilla", None, "<=", 1.1),
        ("throughput_20_users_vs_vanilla", 20, ("throughput_msg_s",), "vanilla", None, ">=", 1.0),
        ("p95_20_users_vs_vanilla", 20, ("latency", "p95_ms"), "vanilla", None, "<=", 1.2),
        ("knowledge_p95_vs_greeting_p95_1_user", 1, ("by_kind", "knowledge", "p95_ms"), None,
         ("by_kind", "greeting", "p95_ms"), "<=", 2.0),
    )
]


def ratios(results: dict) -> dict:
    """The targets, for every measured deployment against vanilla (see TARGET_CHECKS)."""
    out = {}
    for target in results:
        if target == "vanilla":
            continue
        r: dict = {key: _ratio(_get(results, target, channel, users, *path),
                               _get(results, base or target, channel, users, *base_path))
                   for key, channel, users, path, base, base_path, _, _ in TARGET_CHECKS}
        r["targets"] = {key: f"{op} {limit}" for key, *_, op, limit in TARGET_CHECKS}
        r["met"] = {key: (r[key] <= limit if op == "<=" else r[key] >= limit)
                    for key, *_, op, limit in TARGET_CHECKS if r[key] is not None}
        out[target] = r
    return out


def plot(results: dict, levels: list[int], channels: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    colours = {"vanilla": "tab:gray", "assistant": "tab:red", "cluster": "tab:blue"}
    for target, data in results.items():
        for channel in channels:
            if channel not in data:
                continue
            style = "-" if channel == "rest" else "--"
            colour = colours.get(target)
            label = f"{target} {channel}"
            xs = [u for u in levels if (data[channel].get(str(u)) or {}).get("latency")]
            rows = [data[channel][str(u)] for u in xs]
            axes[0].plot(xs, [r["latency"]["p50_ms"] for r in rows], style, marker="o", color=colour, label=label)
            axes[1].plot(xs, [r["latency"]["p95_ms"] for r in rows], style, marker="o", color=colour, label=label)
            axes[2].plot(xs, [r["throughput_msg_s"] for r in rows], style, marker="o", color=colour, label=label)
    titles = ("latency p50 (ms)", "latency p95 (ms)", "throughput (msg/s)")
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_xticks(levels)
        ax.set_xticklabels([str(u) for u in levels])
        ax.set_xlabel("concurrent users (closed loop)")
        ax.grid(True, alpha=0.3)
    axes[2].set_ylim(bottom=0)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].legend(fontsize=8)
    fig.suptitle(f"Closed-loop load, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="vanilla,assistant",
                        help=f"comma-separated, measured in this order: {', '.join(TARGETS)}, "
                             "or the URL of a running deployment")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--channels", default=",".join(CHANNELS))
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per level before measuring")
    parser.add_argument("--max-messages", type=int, default=2000, help="messages per level at most")
    parser.add_argument("--turns-per-conversation", type=int, default=10,
                        help="a user starts a new conversation after this many turns (0: one per user and level)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--dump-turns", action="store_true",
                        help="also write every turn (user, kind, sent at, latency ms, ok) to the results")
    parser.add_argument("--name", default="load", help="results file name (bench/results/<name>.json/.png)")
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    args.levels = [int(u) for u in args.levels.split(",") if u]
    args.channels = [c for c in args.channels.split(",") if c]
    unknown = [t for t in args.targets if t not in TARGETS and not t.startswith("http")] + [c for c in args.channels if c not in CHANNELS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on disconnect
    run_id = uuid.uuid4().hex[:6]
    began = time.perf_counter()
    results = {name: measure_target(name, args, run_id) for name in args.targets}
    data = {
        "settings": {"levels": args.levels, "channels": args.channels, "duration_s": args.duration,
                     "warmup_s": args.warmup, "max_messages_per_level": args.max_messages, "seed": args.seed,
                     "turns_per_conversation": args.turns_per_conversation,
                     "mix": MIX, "sample_s": SAMPLE_S, "socketio_quiet_s": QUIET_S},
        "results": results,
        "ratios": ratios(results),
        "total_s": round(time.perf_counter() - began, 1),
    }
    path = write_result(args.name, data)
    png = RESULTS / f"{args.name}.png"
    plot(results, args.levels, args.channels, png)
    for target, r in data["ratios"].items():
        for key, value in r.items():
            if key not in ("targets", "met"):
                print(f"[load] {target}: {key} = {value}  (target {r['targets'][key]})")
    print(f"[load] written to {path} and {png} in {data['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
