"""Tasting-room calendar: weekly hours, closures, and the replies built from them.

Pure functions over `knowledge/hours.yml` and an explicit `now`, so every rule is
testable with an injected clock. Never cached: the answer depends on the time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

import yaml

from core.texts import render

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ALIASES = {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}


@dataclass(frozen=True)
class Hours:
    opens: time
    closes: time


@dataclass(frozen=True)
class Closure:
    name: str
    start: str = ""  # "MM-DD"
    end: str = ""
    nth: Optional[tuple[int, int, int]] = None  # (month, weekday index, n)

    def covers(self, day: date) -> bool:
        if self.nth:
            month, weekday, n = self.nth
            return day.month == month and day.weekday() == weekday and (day.day - 1) // 7 == n - 1
        key = f"{day.month:02d}-{day.day:02d}"
        return self.start <= key <= (self.end or self.start)


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    weekly: dict[int, Optional[Hours]]
    closures: tuple[Closure, ...]
    last_seating: timedelta
    last_call: timedelta

    def closure_on(self, day: date) -> Optional[Closure]:
        return next((c for c in self.closures if c.covers(day)), None)

    def hours_on(self, day: date) -> Optional[Hours]:
        """Opening hours for a date, or None when closed (weekly day off or closure)."""
        if self.closure_on(day):
            return None
        return self.weekly[day.weekday()]

    def next_open_day(self, after: date, limit: int = 40) -> Optional[date]:
        for i in range(1, limit):
            day = after + timedelta(days=i)
            if self.hours_on(day):
                return day
        return None


def _parse_time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def load_schedule(path: Path) -> Schedule:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    weekly: dict[int, Optional[Hours]] = {}
    for i, name in enumerate(WEEKDAYS):
        entry = raw["weekly"].get(name, "closed")
        weekly[i] = None if entry == "closed" else Hours(_parse_time(entry["open"]), _parse_time(entry["close"]))
    closures = []
    for c in raw.get("closures", []):
        if "nth_weekday" in c:
            nth = c["nth_weekday"]
            closures.append(Closure(c["name"], nth=(int(nth["month"]), WEEKDAYS.index(nth["weekday"]), int(nth["n"]))))
        elif "date" in c:
            closures.append(Closure(c["name"], start=c["date"], end=c["date"]))
        else:
            closures.append(Closure(c["name"], start=c["from"], end=c["to"]))
    return Schedule(
        tz=ZoneInfo(raw.get("timezone", "America/New_York")),
        weekly=weekly,
        closures=tuple(closures),
        last_seating=timedelta(minutes=int(raw.get("last_seating_minutes_before_close", 60))),
        last_call=timedelta(minutes=int(raw.get("last_call_minutes_before_close", 30))),
    )


@lru_cache(maxsize=4)
def cached_schedule(path: str, mtime: float) -> Schedule:
    return load_schedule(Path(path))


def schedule_from(path: Path) -> Schedule:
    """The schedule, reloaded when the data file changes."""
    return cached_schedule(str(path), path.stat().st_mtime)


# ---------------------------------------------------------------- formatting

def fmt_time(t: time) -> str:
    hour = t.hour % 12 or 12
    suffix = "AM" if t.hour < 12 else "PM"
    return f"{hour}:{t.minute:02d} {suffix}"


def fmt_day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()].capitalize()}, {day.strftime('%B')} {day.day}"


def _minus(t: time, delta: timedelta) -> time:
    return (datetime.combine(date(2000, 1, 1), t) - delta).time()


def fmt_hours(schedule: Schedule, hours: Hours) -> str:
    return f"{fmt_time(hours.opens)} to {fmt_time(hours.closes)}"


def fmt_last_orders(schedule: Schedule, hours: Hours) -> str:
    return render("utter_hours_last_orders", None, seating=fmt_time(_minus(hours.closes, schedule.last_seating)),
                  call=fmt_time(_minus(hours.closes, schedule.last_call)))


def weekly_summary(schedule: Schedule) -> str:
    """'Wednesday to Sunday ...' style summary grouping days with the same hours."""
    groups: list[tuple[list[str], Optional[Hours]]] = []
    for i in range(7):
        h = schedule.weekly[i]
        if groups and groups[-1][1] == h:
            groups[-1][0].append(WEEKDAYS[i].capitalize())
        else:
            groups.append(([WEEKDAYS[i].capitalize()], h))
    parts = []
    for days, h in groups:
        label = days[0] if len(days) == 1 else f"{days[0]}-{days[-1]}"
        parts.append(f"{label}: {'closed' if h is None else fmt_hours(schedule, h)}")
    return "; ".join(parts)


def closures_summary(schedule: Schedule) -> str:
    names = []
    for c in schedule.closures:
        if c.nth:
            names.append(c.name)
        elif c.end and c.end != c.start:
            names.append(f"{c.name} ({_md(c.start)} through {_md(c.end)})")
        else:
            names.append(f"{c.name} ({_md(c.start)})")
    return ", ".join(names)


def _md(key: str) -> str:
    month, day = key.split("-")
    return f"{date(2000, int(month), 1).strftime('%B')} {int(day)}"


def last_orders_policy(schedule: Schedule) -> str:
    seating = int(schedule.last_seating.total_seconds() // 60)
    call = int(schedule.last_call.total_seconds() // 60)
    return render("utter_hours_last_orders_policy", None, seating=seating, call=call)


def days_off(schedule: Schedule) -> str:
    names = [WEEKDAYS[i].capitalize() + "s" for i, h in schedule.weekly.items() if h is None]
    return " and ".join(names)


def knowledge_text(schedule: Schedule) -> str:
    """The hours passage for the knowledge index, rendered from the same data."""
    return (
        f"The Milea Estate Vineyard tasting room hours are {weekly_summary(schedule)}. "
        f"{last_orders_policy(schedule)} "
        f"The tasting room is closed for {closures_summary(schedule)}."
    )


# ---------------------------------------------------------------- understanding dates

def resolve_days(text: str, entities: Iterable[str], today: date) -> tuple[str, list[date]]:
    """Map what the customer asked about to concrete dates.

    Returns (kind, days): kind is "now", "week", or "days". Entities (weekday,
    date_phrase) win; the raw text is a fallback for what NLU missed.
    """
    haystack = " ".join([*entities, text or ""]).lower()
    haystack = re.sub(r"\bwe[’']d\b", "we would", haystack)   # "we'd" is not "wed"
    haystack = re.sub(r"[’']", "", haystack)

    def has(*words: str) -> bool:
        return any(re.search(rf"\b{w}\b", haystack) for w in words)

    days: list[date] = []
    # a day of the month said alone ("on the 24th") wins over a holiday named as the season it falls
    # in ("Christmas week ... on the 24th"), and falls in that holiday's month or the month named
    alone = _day_alone(haystack, today, has)
    if alone is not None:
        days.append(alone)
    else:
        if has("christmas eve", "xmas eve"):
            days.append(_next_date(today, 12, 24))
        elif has("christmas", "xmas", "christmas day"):
            days.append(_next_date(today, 12, 25))
        if has("new years eve"):
            days.append(_next_date(today, 12, 31))
        elif has("new years day", "new years", "new year"):
            days.append(_next_date(today, 1, 1))
        if has("thanksgiving"):
            days.append(_thanksgiving_on_or_after(today))
    m = re.search(r"\b(\d{1,2})/(\d{1,2})\b", haystack)
    if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31:
        days.append(_next_date(today, int(m.group(1)), int(m.group(2))))
    for m in re.finditer(r"\b([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?\b", haystack):
        month = _MONTHS.get(m.group(1))
        if month and 1 <= int(m.group(2)) <= 31:
            days.append(_next_date(today, month, int(m.group(2))))
    for m in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)\b", haystack):   # "26 December", "the 3rd of jan"
        month = _MONTHS.get(m.group(2))
        if month and 1 <= int(m.group(1)) <= 31:
            days.append(_next_date(today, month, int(m.group(1))))
    if has("this weekend") or has("weekend") and not days:   # "a ski weekend around jan 10th": that date
        sat = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:  # on Sunday, "this weekend" is today
            days.extend([today])
        else:
            days.extend([sat, sat + timedelta(days=1)])
    if has("day after tomorrow"):
        days.append(today + timedelta(days=2))
    elif has("tomorrow", "tmrw", "tmr", "tomorow", "tommorow"):
        days.append(today + timedelta(days=1))
    if has("today", "tonight", "this afternoon", "this evening"):
        days.append(today)
    if has("yesterday"):
        days.append(today - timedelta(days=1))
    for word in re.findall(r"[a-z]+", haystack):
        idx = WEEKDAYS.index(word.rstrip("s")) if word.rstrip("s") in WEEKDAYS else _WEEKDAY_ALIASES.get(word)
        if idx is not None:
            nxt = today + timedelta(days=(idx - today.weekday()) % 7)
            if has(f"next {word}") and nxt == today:
                nxt += timedelta(days=7)
            days.append(nxt)
    year = re.search(r"\b(20\d\d)\b", haystack)
    if not days and year and int(year.group(1)) > today.year:   # "in 2027": from its first day
        days.append(date(int(year.group(1)), 1, 1))
    if not days:   # a month alone ("closed in january?"): its first day, where a closure would start
        for word in re.findall(r"[a-z]+", haystack):
            if word in _MONTHS and len(word) > 3:
                days.append(_next_date(today, _MONTHS[word], 1))
                break
    if not days and has("last seating", "last call", "last tasting", "latest", "how late", "last order", "last glass",
                        "last drink", "cutoff"):
        days.append(today)   # the last seating asked without a day: today's
    found = [d for d in days if d is not None]
    if found and re.search(r"\b(day after(?! tomorrow)|next day|following day)\b", haystack):
        found = [max(found) + timedelta(days=1)]   # "next tuesday? ... what about the day after that?"
    elif found and re.search(r"\b(day before(?! yesterday)|night before|eve of)\b", haystack):
        found = [min(found) - timedelta(days=1)]   # "the day before christmas eve": the 23rd
    unique = sorted(set(found))
    if _WHICH_DAYS.search(haystack) and not re.search(r"\bnext week\b", haystack):
        return "week", []   # "which weekdays are you open?": the week, whatever day the story named
    if unique:
        return "days", unique
    if has("now", "right now", "rn", "atm", "currently", "still open", "open yet", "at the moment"):
        return "now", []
    return "week", []


# "which weekdays r u open", "what days are you open": the days of the week, not one date
_WHICH_DAYS = re.compile(r"\b(which|what) (week ?)?days\b|\bdays of the week\b")


def day_said(text: str, entities: Iterable[str], schedule: Schedule, now: datetime) -> Optional[str]:
    """The one date a message asks about, spelt as a later follow-up can read it again ("December 2"),
    or None: "the day after that" is kept as the day it meant, not as words that meant it."""
    kind, days = resolve_days(text, entities, now.astimezone(schedule.tz).date())
    return f"{days[0]:%B} {days[0].day}" if kind == "days" and len(days) == 1 else None


def _day_alone(haystack: str, today: date, has) -> Optional[date]:
    """The date of "the 24th" said without its month (a month written beside it is read elsewhere)."""
    ordinal = re.search(r"\b(?:the|on) (\d{1,2})(?:st|nd|rd|th)\b", haystack)
    if not ordinal or re.search(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d", haystack):
        return None
    number = int(ordinal.group(1))
    month = next((_MONTHS[w] for w in re.findall(r"[a-z]+", haystack) if w in _MONTHS and len(w) > 2), None) \
        or (12 if has("christmas", "xmas") else 11 if has("thanksgiving") else 1 if has("new years?") else None)
    if month is None:   # the next time a month has that day
        month = today.month if number >= today.day else today.month % 12 + 1
    return _next_date(today, month, number) if 1 <= number <= 31 else None


def _next_date(today: date, month: int, day: int) -> Optional[date]:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _thanksgiving_on_or_after(today: date) -> date:
    for year in (today.year, today.year + 1):
        first = date(year, 11, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        if thursday >= today:
            return thursday
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- replies

def _label(day: date, today: date) -> str:
    if day == today - timedelta(days=1):
        return render("utter_hours_label_yesterday", None, day=fmt_day(day))
    if day == today:
        return render("utter_hours_label_today", None, day=fmt_day(day))
    if day == today + timedelta(days=1):
        return render("utter_hours_label_tomorrow", None, day=fmt_day(day))
    return render("utter_hours_label_on", None, day=fmt_day(day))


def describe_day(schedule: Schedule, day: date, today: date) -> str:
    label = _label(day, today)
    closure = schedule.closure_on(day)
    if closure:
        nxt = schedule.next_open_day(day)
        reopen = render("utter_hours_reopen", None, day=fmt_day(nxt),
                        hours=fmt_hours(schedule, schedule.hours_on(nxt))) if nxt else ""
        through = ""
        if closure.end and closure.end != closure.start:   # "our annual winter closure (through January 14)"
            last = date(day.year, int(closure.end[:2]), int(closure.end[3:]))
            through = render("utter_hours_closure_through", None, day=f"{last:%B} {last.day}")
        return render("utter_hours_day_closure", None, label=label, closure=closure.name + through, reopen=reopen)
    hours = schedule.hours_on(day)
    if hours is None:
        nxt = schedule.next_open_day(day)
        nxt_text = render("utter_hours_next_open_day", None, day=fmt_day(nxt),
                          hours=fmt_hours(schedule, schedule.hours_on(nxt))) if nxt else ""
        return render("utter_hours_day_off", None, label=label, days_off=days_off(schedule), next=nxt_text)
    return render("utter_hours_day_open", None, label=label, hours=fmt_hours(schedule, hours),
                  last_orders=fmt_last_orders(schedule, hours))


def describe_now(schedule: Schedule, now: datetime) -> str:
    local = now.astimezone(schedule.tz)
    today = local.date()
    hours = schedule.hours_on(today)
    if hours and hours.opens <= local.time() < hours.closes:
        return render("utter_hours_open_now", None, closes=fmt_time(hours.closes),
                      last_orders=fmt_last_orders(schedule, hours))
    if hours and local.time() < hours.opens:
        return render("utter_hours_not_open_yet", None, opens=fmt_time(hours.opens), closes=fmt_time(hours.closes))
    closure = schedule.closure_on(today)
    if closure:
        reason = render("utter_hours_closed_for", None, closure=closure.name)
    elif hours:
        reason = render("utter_hours_closed_for_the_day")
    else:
        reason = render("utter_hours_closed_days_off", None, days_off=days_off(schedule))
    nxt = schedule.next_open_day(today)
    nxt_text = ""
    if nxt:
        when = render("utter_hours_tomorrow", None, day=fmt_day(nxt)) if nxt == today + timedelta(days=1) \
            else fmt_day(nxt)
        nxt_text = render("utter_hours_next_open", None, when=when, hours=fmt_hours(schedule, schedule.hours_on(nxt)))
    return render("utter_hours_closed_now", None, reason=reason, next=nxt_text)


def describe_week(schedule: Schedule, now: datetime) -> str:
    local = now.astimezone(schedule.tz)
    upcoming = upcoming_closure(schedule, local.date())
    note = render("utter_hours_closure_note", None, day=fmt_day(upcoming[0]), closure=upcoming[1].name) \
        if upcoming else ""
    return render("utter_hours_week", None, weekly=weekly_summary(schedule), last_orders=last_orders_policy(schedule),
                  closure_note=note)


def upcoming_closure(schedule: Schedule, today: date, within_days: int = 21) -> Optional[tuple[date, Closure]]:
    for i in range(within_days):
        day = today + timedelta(days=i)
        closure = schedule.closure_on(day)
        if closure:
            return day, closure
    return None


# "what's the next day you're open after Sunday?", "first day I can come in 2027?": the first open day
_NEXT_OPEN = re.compile(r"\b(next|first|earliest|soonest) (day|date|time|chance)\b|\bnext open\b|\bopen next\b", re.I)
_STRICTLY_AFTER = re.compile(r"\bafter\b", re.I)
# "do you take a break in the winter?", "holiday closures?": the closures of the year
_CLOSURES = re.compile(r"\b(break|closures?|shut ?down|vacation|time off|close for the (season|winter|holidays)|"
                       r"closed for the (season|winter|holidays)|holiday (hours|schedule))\b", re.I)


_SEASON = re.compile(r"\b(winter|holidays?|season|christmas|xmas|new year'?s?|january|thanksgiving|all year|year round)\b",
                     re.I)


def asks_about_closures(text: str) -> bool:
    """"Do you take a break in the winter?", "closed over the holidays?": the year's closures, whatever
    intent NLU gave it."""
    return bool(_CLOSURES.search(text or "") and _SEASON.search(text or ""))


def hours_reply(schedule: Schedule, now: datetime, text: str, entities: Iterable[str] = ()) -> str:
    """The full reply to an hours question asked at `now`."""
    local = now.astimezone(schedule.tz)
    kind, days = resolve_days(text, entities, local.date())
    if _NEXT_OPEN.search(text or ""):
        start = days[-1] if days else local.date()
        first = start if days and not _STRICTLY_AFTER.search(text) and schedule.hours_on(start) \
            else schedule.next_open_day(start)
        if first is not None:
            return describe_day(schedule, first, local.date())
    if kind == "week" and _CLOSURES.search(text or ""):
        upcoming = upcoming_closure(schedule, local.date(), 366)
        nxt = render("utter_hours_closure_note", None, day=fmt_day(upcoming[0]), closure=upcoming[1].name).strip() \
            if upcoming else ""
        return render("utter_hours_closures", None, days_off=days_off(schedule), closures=closures_summary(schedule),
                      next=nxt).strip()
    if kind == "now":
        return describe_now(schedule, now)
    if kind == "week":
        return describe_week(schedule, now)
    lines = []
    for day in days[:4]:
        if day == local.date() and schedule.hours_on(day):
            lines.append(describe_now(schedule, now) if _is_open_or_later(schedule, local) else describe_day(schedule, day, local.date()))
        else:
            lines.append(describe_day(schedule, day, local.date()))
    return " ".join(lines)


def _is_open_or_later(schedule: Schedule, local: datetime) -> bool:
    hours = schedule.hours_on(local.date())
    return bool(hours) and local.time() >= hours.opens
