"""Hours with an injected clock, across every rule of knowledge/hours.yml."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core import business_hours as bh
from actions.hours import ActionTellHours

from core.paths import ROOT
NY = ZoneInfo("America/New_York")
SCHEDULE = bh.load_schedule(ROOT / "knowledge" / "hours.yml")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def reply(now: datetime, text: str, entities=()) -> str:
    return bh.hours_reply(SCHEDULE, now, text, entities)


def test_open_now_states_closing_last_seating_and_last_call():
    text = reply(at(2026, 11, 27, 14, 0), "are you open right now?")  # a Friday
    assert "open right now until 7:00 PM" in text
    assert "last tasting seating at 6:00 PM" in text and "last call at 6:30 PM" in text


def test_before_opening_says_when_it_opens():
    text = reply(at(2026, 11, 25, 10, 0), "are you open now")  # Wednesday morning
    assert "not open yet" in text and "12:00 PM" in text and "5:00 PM" in text


def test_after_closing_points_to_next_open_day():
    text = reply(at(2026, 11, 25, 17, 0), "open now?")  # Wednesday at closing time
    assert "closed right now" in text
    # Thursday is Thanksgiving, so the next open day is Friday.
    assert "Friday, November 27" in text and "7:00 PM" in text


def test_weekly_days_off():
    text = reply(at(2026, 11, 24, 13, 0), "are you open now")  # Tuesday
    assert "closed right now" in text and "Mondays and Tuesdays" in text
    assert "tomorrow, Wednesday, November 25" in text


@pytest.mark.parametrize("year, day", [(2026, 26), (2027, 25), (2028, 23)])
def test_thanksgiving_is_the_fourth_thursday(year, day):
    assert SCHEDULE.closure_on(date(year, 11, day)).name == "Thanksgiving Day"
    assert SCHEDULE.closure_on(date(year, 11, day + 1)) is None
    text = reply(at(year, 11, 1, 9), "open on thanksgiving?")
    assert f"November {day}" in text and "closed for Thanksgiving Day" in text


def test_christmas_eve_and_day_closed_reopen_after():
    text = reply(at(2026, 12, 20, 12), "christmas eve?")
    assert "Thursday, December 24" in text and "closed for Christmas Eve" in text
    assert "We reopen Saturday, December 26" in text
    assert "closed for Christmas Day" in reply(at(2026, 12, 20, 12), "what about christmas day")


def test_winter_closure_first_and_last_day():
    assert "winter closure" in reply(at(2026, 12, 28, 12), "are you open jan 1")
    assert "winter closure" in reply(at(2026, 12, 28, 12), "and on 1/14?")
    text = reply(at(2027, 1, 10, 12), "are you open right now")
    assert "closed right now for our annual winter closure" in text
    assert "Friday, January 15" in text
    assert SCHEDULE.hours_on(date(2027, 1, 15)) is not None


def test_today_and_tomorrow():
    assert "Today (Friday, November 27)" in reply(at(2026, 11, 27, 9), "what time do you open today")
    text = reply(at(2026, 11, 27, 9), "and tomorrow?")
    assert "Tomorrow (Saturday, November 28)" in text and "7:00 PM" in text


def test_weekday_from_entity_and_follow_up_word():
    text = reply(at(2026, 11, 25, 13), "and on sunday?", ["sunday"])
    assert "Sunday, November 29" in text and "12:00 PM to 5:00 PM" in text
    assert "Monday" in reply(at(2026, 11, 25, 13), "what about mon") and "closed" in reply(at(2026, 11, 25, 13), "mon")


def test_this_weekend_lists_saturday_and_sunday():
    text = reply(at(2026, 11, 25, 13), "are you open this weekend", ["this weekend"])
    assert "Saturday, November 28" in text and "Sunday, November 29" in text


def test_week_overview_mentions_upcoming_closure():
    text = reply(at(2026, 12, 16, 13), "what are your hours")
    assert "Monday-Tuesday: closed" in text and "Friday-Saturday: 12:00 PM to 7:00 PM" in text
    assert "December 24 for Christmas Eve" in text


def test_timezone_conversion_across_daylight_saving():
    # 16:30 UTC is 12:30 in New York in summer (EDT) but 11:30 in winter (EST).
    assert "open right now" in reply(datetime(2026, 7, 5, 16, 30, tzinfo=timezone.utc), "open now")
    assert "not open yet" in reply(datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc), "open now")


def test_knowledge_text_comes_from_the_same_data():
    text = bh.knowledge_text(SCHEDULE)
    for fact in ("Monday-Tuesday: closed", "60 minutes", "30 minutes", "Thanksgiving Day",
                 "January 1 through January 14", "December 24", "December 25"):
        assert fact in text


def test_action_uses_injected_clock():
    action = ActionTellHours()
    action.clock = lambda: at(2026, 11, 26, 13)  # Thanksgiving, 1 PM
    tracker = Tracker("t", {}, {"text": "are you open now?", "intent": {"name": "ask_hours"}, "entities": []},
                      [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    assert "closed right now for Thanksgiving Day" in dispatcher.messages[0]["text"]


def test_yesterday_is_the_day_before_and_names_its_closure():
    text = reply(at(2026, 11, 27, 14), "we came by yesterday and it was dark, were you closed?")
    assert "Yesterday (Thursday, November 26)" in text and "Thanksgiving" in text


def test_a_month_alone_is_its_first_day_and_says_when_we_reopen():
    text = reply(at(2026, 11, 27, 14), "when do you open again after the january break")
    assert "winter closure" in text and "January 15" in text


def test_the_last_seating_asked_without_a_day_is_todays():
    text = reply(at(2026, 11, 27, 14), "what time is last seating")
    assert "6:00 PM" in text and "Wednesday-Thursday" not in text


def test_a_short_word_that_is_also_a_month_is_not_read_as_one():
    assert "Wednesday-Thursday" in reply(at(2026, 11, 27, 14), "may i ask your hours")


@pytest.mark.parametrize("text, day", [
    ("so whats the next day ur open after sunday", "Wednesday, December 2"),
    ("first day I can come taste in 2027?", "Friday, January 15"),
    ("what's the first day you're open after christmas", "Saturday, December 26"),
])
def test_the_next_open_day_after_a_day(text, day):
    assert day in reply(at(2026, 11, 27, 14, 0), text)


@pytest.mark.parametrize("text", ["do you guys take a break in the winter at all", "any holiday closures?"])
def test_the_closures_of_the_year(text):
    said = reply(at(2026, 11, 27, 14, 0), text)
    assert "January 1 through January 14" in said and "Christmas Day" in said and "Mondays and Tuesdays" in said


# Written for round 14's kinds (not its phrasings): a day counted back from a named one, the days of
# the week asked whatever day the story names, and "now" written as texters write it.
@pytest.mark.parametrize("text, said, not_said", [
    ("and the day before new year's eve?", "Wednesday, December 30", "Thursday, December 31"),
    ("the night before thanksgiving, are you open", "Wednesday, November 25", "Thanksgiving"),
])
def test_the_day_before_a_named_day(text, said, not_said):
    out = reply(at(2026, 11, 20, 14, 0), text)
    assert said in out and not_said not in out


def test_which_days_of_the_week_are_the_week_whatever_else_is_named():
    out = reply(at(2026, 11, 27, 14, 0), "my kids have soccer all weekend so what days are u open during the week")
    assert "Wednesday-Thursday" in out and "Monday-Tuesday: closed" in out


@pytest.mark.parametrize("text", ["u guys open rn?", "open atm or nah"])
def test_now_in_texting_shorthand(text):
    assert "open right now until 7:00 PM" in reply(at(2026, 11, 27, 14, 0), text)
