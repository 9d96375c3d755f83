"""Every console page is a template with autoescaping: a value from a customer or a user never
reaches the page as markup (console/pages.py, console/templates/)."""
from __future__ import annotations

from console import inbox, pages
from console.accounts import Session, User

EVIL = '<script>alert("x")</script>'
ADMIN = Session(User("u1", "a@example.com", EVIL, "admin"), 'csrf"token', "cookie", "hash")
ITEM = {"id": EVIL, "channel_label": "SMS", "last_text": EVIL, "taken_by": EVIL, "waiting": True, "handed_off": False,
        "negative": True, "fallbacks": 1, "turns": 2, "last_at": 1.7e9, "age_s": 30}
OVERVIEW = {"from": "2026-11-01", "to": "2026-11-30", "totals": {"conversations": 1, "turns": 2, "fallbacks": 1,
                                                               "handoffs": 0},
            "ratings": {EVIL: 1}, "top_intents": [{"intent": EVIL, "count": 1}], "signups": {"started": 0, "submitted": 0},
            "captured": {"email": 0, "phone": 0}, "response_ms": {"median": None, "p95": 900}}


def every_page() -> list[str]:
    conv = {"id": EVIL, "channel": "twilio", "channel_label": "SMS", "taken_by": EVIL, "taken_by_id": "other"}
    job = {"id": EVIL, "kind": EVIL, "customer": EVIL, "status": "refused", "reason": EVIL, "attempts": 1,
           "created_at": 1.7e9}
    gap = {"question": EVIL, "count": 2, "fallbacks": 1, "thumbs_down": 1,
           "examples": [{"conversation": EVIL, "text": EVIL, "kind": "fallback", "answer": EVIL}]}
    run = {"kind": "sync", "started_at": 1.7e9, "started_by": EVIL, "status": "failed", "summary": EVIL, "progress": ""}
    return [
        pages.login_page(EVIL, EVIL, EVIL, EVIL),
        pages.inbox_page(ADMIN, [ITEM], [ITEM], inbox.Filters(q=EVIL), EVIL),
        pages.inbox_rows([ITEM]), pages.queue_list([ITEM]),
        pages.conversation_page(ADMIN, conv),
        pages.users_page(ADMIN, [(ADMIN.user, 60)], EVIL, EVIL),
        pages.attention_page(ADMIN, [job], EVIL, [{"id": EVIL, "phone": EVIL, "reason": EVIL, "failed_at": 1.7e9}]),
        pages.overview_page(ADMIN, OVERVIEW, EVIL),
        pages.improve_page(ADMIN, [gap], 30),
        pages.knowledge_page(ADMIN, [{"path": EVIL, "generated": True}], [run], EVIL, EVIL),
        pages.editor_page(ADMIN, EVIL, EVIL, "<p>preview</p>", False, EVIL, EVIL),
        pages.error_page(404, EVIL, ADMIN),
    ]


def test_no_value_reaches_a_page_as_markup():
    for html in every_page():
        assert "<script>" not in html and 'csrf"token' not in html
        assert "&lt;script&gt;" in html


def test_the_markdown_preview_is_the_one_html_inserted_as_it_is():
    assert "<p>preview</p>" in pages.editor_page(ADMIN, "a.md", "text", "<p>preview</p>", False)
