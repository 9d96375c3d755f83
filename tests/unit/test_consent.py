"""The consent ledger and the outgoing queue on a real SQLite database: who may be texted, and the proof."""
from __future__ import annotations

import csv
import io
import time

import pytest

from core.consent import ConsentLedger, read_import_csv
from core.outreach import OutreachStore, campaign_body, clean_audience, estimate

A, B, C = "+18455550101", "+18455550102", "+18455550103"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """The SMS database of `make run` (SQLite) and of the production profile (PostgreSQL; skipped without it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sms.db'}"
        return
    from tests.production.services import scratch_database

    with scratch_database("milea_consent") as found:
        yield found


def test_a_number_is_in_only_by_its_owner_and_stop_wins_over_an_import(url):
    ledger = ConsentLedger(url)
    assert ledger.status(A) is None and not ledger.opted_in(A)
    assert ledger.opt_in(A, "sms", "JOIN", "sms keyword")
    assert ledger.opted_in(A)
    assert ledger.opt_out(A, "sms", "stop")
    assert ledger.status(A) == "out"
    result = ledger.import_numbers([(A, "tasting room sheet", "2026-10-04"), (B, "tasting room sheet", "2026-10-04")],
                                   "import by admin@milea.test")
    assert result.kept_out == 1 and result.opted_in == 1
    assert ledger.status(A) == "out" and ledger.status(B) == "in"
    # only the owner's own keyword brings it back
    assert ledger.opt_in(A, "sms", "START", "sms keyword")
    assert ledger.opted_in(A)


def test_an_import_needs_a_source_and_a_date_per_number(url):
    ledger = ConsentLedger(url)
    result = ledger.import_numbers(read_import_csv(
        "phone,source,date\n+18455550101,,2026-01-01\n(845) 555-0102,web form,2026-01-02\nnot a phone,x,2026-01-01\n"
        "+18455550103,event,someday\n"), "import by admin")
    assert result.opted_in == 1 and len(result.invalid) == 3
    assert ledger.opted_in_numbers() == [B]


def test_every_change_is_in_the_audit_trail_and_its_csv(url):
    ledger = ConsentLedger(url)
    ledger.opt_in(A, "sms", "JOIN", "sms keyword")
    ledger.opt_out(A, "sms", "Stop please? no: STOP")
    ledger.import_numbers([(C, "club signup card", "2025-05-01")], "import by admin@milea.test")
    rows = list(csv.DictReader(io.StringIO("".join(ledger.export_csv()))))
    assert [(r["phone"], r["status"], r["channel"]) for r in rows] == [(A, "in", "sms"), (A, "out", "sms"),
                                                                      (C, "in", "import")]
    assert rows[0]["words"] == "JOIN" and rows[2]["source"] == "club signup card"
    assert rows[2]["consented_at_utc"].startswith("2025-05-01") and rows[2]["by"] == "import by admin@milea.test"


def test_the_opt_in_question_counts_for_a_week(url):
    ledger = ConsentLedger(url)
    assert not ledger.asked_recently(A)
    ledger.mark_asked(A)
    assert ledger.asked_recently(A) and ledger.status(A) is None
    assert not ledger.asked_recently(A, now=time.time() + 8 * 86400)


def test_stop_skips_what_is_still_queued_for_that_number(url):
    ledger, store = ConsentLedger(url), OutreachStore(url)
    ledger.import_numbers([(A, "sheet", "2026-01-01"), (B, "sheet", "2026-01-01")], "admin")
    campaign = store.create_campaign("party", "Club party Saturday!", "all", None, "admin")
    assert store.send_campaign(campaign, "admin")
    store.queue_campaign(campaign, [(A, None), (B, None), (C, "not_opted_in")])
    ledger.opt_out(B, "sms", "STOP")
    first = store.claim(weekly_cap=2)
    assert first and first["phone"] == A and first["body"].endswith("Reply STOP to opt out.")
    store.mark_sent(first["id"], "SM1")
    assert store.claim(weekly_cap=2) is None
    counts = store.counts(campaign)
    assert counts["sent"] == 1 and counts["skipped_by_reason"] == {"not_opted_in": 1, "opted_out": 1}
    assert ledger.opted_out_since(store.recipients(campaign), 0) == 1


def test_the_weekly_cap_skips_a_number_that_had_enough(url):
    ledger, store = ConsentLedger(url), OutreachStore(url)
    ledger.import_numbers([(A, "sheet", "2026-01-01")], "admin")
    for n in range(2):
        campaign = store.create_campaign(f"c{n}", "Hello", "all", None, "admin")
        store.send_campaign(campaign, "admin")
        store.queue_campaign(campaign, [(A, None)])
        row = store.claim(weekly_cap=1)
        if n == 0:
            store.mark_sent(row["id"], "SM1")
        else:
            assert row is None
    assert store.counts(campaign)["skipped_by_reason"] == {"weekly_cap": 1}


def test_status_callbacks_move_a_message_forward_only(url):
    ConsentLedger(url).import_numbers([(A, "sheet", "2026-01-01")], "admin")
    store = OutreachStore(url)
    campaign = store.create_campaign("c", "Hi", "all", None, "admin")
    store.send_campaign(campaign, "admin")
    store.queue_campaign(campaign, [(A, None)])
    row = store.claim(0)
    store.mark_sent(row["id"], "SMabc")
    assert store.status_callback("SMabc", "delivered")
    assert not store.status_callback("SMabc", "sent")
    assert store.counts(campaign)["delivered"] == 1
    assert store.status_callback("SMabc", "undelivered", "30003")
    assert store.counts(campaign)["failed"] == 1


def test_a_replayed_event_is_recorded_once(url):
    store = OutreachStore(url)
    assert store.record_event("Order|Update|o1|2026-12-01T10:00:00Z", "Order", "Update", "o1", "{}")
    assert not store.record_event("Order|Update|o1|2026-12-01T10:00:00Z", "Order", "Update", "o1", "{}")
    assert store.enqueue("order:o1:ready", "event", A, "ready")
    assert not store.enqueue("order:o1:ready", "event", A, "ready")


def test_audiences_and_estimates():
    assert clean_audience("all") == "all"
    assert clean_audience({"tier": " Cellar Club "}) == {"tier": "Cellar Club"}
    for bad in ("everyone", {"tier": ""}, {"club_members": "yes"}, {"tag": "a", "tier": "b"}, None):
        with pytest.raises(ValueError):
            clean_audience(bad)
    assert campaign_body("Say STOP to stop") == "Say STOP to stop"
    one = estimate("Club party Saturday at 6!", 100, 0.01)
    assert one["segments"] == 1 and one["encoding"] == "GSM-7" and one["cost_usd"] == 1.0
    emoji = estimate("Club party Saturday at 6! 🍷", 100, 0.01)
    assert emoji["encoding"] == "UCS-2" and emoji["segments"] == 1
    assert estimate("x" * 280, 10, 0.01)["segments"] == 2 and estimate("x" * 300, 10, 0.01)["segments"] == 3


def test_an_opt_out_from_before_the_ledger_stays_out(tmp_path):
    import sqlite3

    from core import migrations

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as db:  # a database at version 7 with an old STOP
        db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL)")
    for version, name, statements in migrations.MIGRATIONS:
        if version < 8:
            with sqlite3.connect(path) as db:
                for statement in statements:
                    db.execute(statement.format(**migrations._TYPES["sqlite"]))
                db.execute("INSERT INTO schema_version VALUES (?, ?, 0)", (version, name))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO sms_opt_out VALUES (?, 1700000000)", (A,))
    migrations.upgrade(url)
    ledger = ConsentLedger(url)
    assert ledger.status(A) == "out"
    assert ledger.import_numbers([(A, "old list", "2025-01-01")], "admin").kept_out == 1
    assert [r["words"] for r in ledger.history(A)] == ["STOP"]


def test_a_campaign_is_due_at_its_time_and_a_cancelled_one_never(url):
    store = OutreachStore(url)
    later = store.create_campaign("later", "Hi", "all", time.time() + 3600, "admin")
    now = store.create_campaign("now", "Hi", "all", None, "admin")
    dropped = store.create_campaign("dropped", "Hi", "all", None, "admin")
    assert store.due_campaigns() == []  # drafts are never due
    for campaign in (later, now, dropped):
        assert store.send_campaign(campaign, "admin")
    assert store.cancel_campaign(dropped) and not store.send_campaign(dropped, "admin")
    assert [c["id"] for c in store.due_campaigns()] == [now]
    assert [c["id"] for c in store.due_campaigns(time.time() + 7200)] == [now, later]


class _RepliesAtOnce:
    """Twilio as seen by a customer who answers "2" the moment the text lands, before send() has returned."""

    def __init__(self, url: str) -> None:
        self.url, self.seen_buttons = url, None

    async def send(self, phone: str, body: str):
        from core.database import Database
        from core.texting.twilio_rest import SendResult

        db = Database(self.url)
        with db.connection(write=False) as conn:
            row = db.execute(conn, "SELECT buttons FROM sms_buttons WHERE phone = ?", (phone,)).fetchone()
        self.seen_buttons = row[0] if row else None
        return SendResult("sent", "SM42")


def test_a_texts_choices_are_offered_before_it_goes_out(url):
    """A club-shipment text's "Reply 1 or 2": a reply that came back before the send returned was
    read as a new question (the choices were recorded only after), seen as a flaky stack test."""
    import asyncio

    from core.texting.sender import Sender
    from core.texting.settings import TextingSettings

    ledger, store = ConsentLedger(url), OutreachStore(url)
    ledger.import_numbers([(A, "sheet", "2026-01-01")], "admin")
    buttons = [{"title": "ship", "payload": "club_choice:ship:p1:Grand Prix"},
               {"title": "pick up", "payload": "club_choice:pickup:p1:Grand Prix"}]
    assert store.enqueue("club-package:p1:c1", "event", A, "Your Grand Prix shipment... Reply 1 or 2", buttons=buttons)
    rest = _RepliesAtOnce(url)
    settings = TextingSettings.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_NUMBER": "+1845",
                                         "CAMPAIGN_QUIET_HOURS": "off", "CAMPAIGN_RATE_PER_S": "100"})
    sender = Sender(settings, store, ledger, rest)
    assert asyncio.run(sender.send_one())
    assert rest.seen_buttons and "club_choice:pickup" in rest.seen_buttons
