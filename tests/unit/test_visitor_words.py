"""How a visitor's own words are read (issue "Visitors' own words", blind round 4's kinds): a price
ceiling said any way, a day of the month said alone, an age said while asking to join, numbers
written as "10k", a question that names only its topic, a group plan's other question."""
from datetime import date

import pytest

from actions.answering.choose import _words
from actions.answering.numbers import with_digits
from actions.answering.party import head_count, rest_intent, rest_of
from actions.converse import asks_for_a_grape_we_lack
from actions.knowledge.service import INTENT_DEFAULT_QUESTIONS, overview_question
from actions.recommend import read_wish
from actions.subject import asks_what_it_is
from actions.validators import stated_age, under_age
from core.business_hours import resolve_days

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize("text, ceiling, floor", [
    ("looking for a red, nothing over $40 pls", 40, None), ("reds under $35", 35, None),
    ("$40 or less please", 40, None), ("not more than 30 bucks", 30, None), ("max of 50", 50, None),
    ("something over 50", None, 50), ("wines $30 and up", None, 30), ("a bottle that is over the top", None, None),
])
def test_a_price_ceiling_or_floor_said_any_way(text, ceiling, floor):
    wish = read_wish(text)
    assert (wish.max_price, wish.min_price) == (ceiling, floor)


@pytest.mark.parametrize("text, strictly", [
    ("any rosé under $30", True), ("below 45 please", True), ("cheaper than 30 bucks", True),
    ("$30 or less", False), ("up to 30", False), ("nothing over $40", False), ("max of 50", False),
])
def test_under_a_price_leaves_out_the_price_itself(text, strictly):
    from actions.recommend import matches
    from actions.wine_catalog import WineRow
    wish = read_wish(text)
    assert wish.below_only is strictly
    at_the_ceiling = WineRow("X", wish.max_price, f"${wish.max_price:g}", 2023, True, None, type="rose")
    assert matches(at_the_ceiling, wish) is not strictly


def test_a_bday_is_a_gift():
    assert read_wish("a red for my dads bday").gift


@pytest.mark.parametrize("text, day", [
    ("visiting Christmas week, thinking of bringing them up on the 24th. Will you be open?", date(2026, 12, 24)),
    ("are you open the 3rd", date(2026, 12, 3)),
    ("open on the 30th", date(2026, 11, 30)),
    ("open on christmas?", date(2026, 12, 25)),
    ("open dec 26th?", date(2026, 12, 26)),
])
def test_a_day_of_the_month_said_alone_wins_over_the_season(text, day):
    assert resolve_days(text, [], FRIDAY) == ("days", [day])


@pytest.mark.parametrize("text, age", [
    ("im 20 but my bday is in feb, can i join the wine club now?", 20), ("I am 19", 19),
    ("my son is 8 years old", 8), ("im 20 minutes away", None), ("we are 12 people", None), ("im 25", 25),
    ("my son is 19, can he sign up for the club?", 19), ("she just turned 20 and wants to join", 20),
    ("my son is 19 minutes away", None),
])
def test_an_age_said_in_passing(text, age):
    assert stated_age(text) == age


def test_under_age_is_below_the_clubs_minimum():
    assert under_age("i'm 20, can i join?") and not under_age("i'm 21 now, sign me up") \
        and not under_age("im 20 minutes out")


@pytest.mark.parametrize("text, number", [("what do I get at 10k", "10000"), ("the 15,000 one", "15000"),
                                          ("40k pts", "40000"), ("the $25 one", "25")])
def test_numbers_are_read_as_their_value(text, number):
    assert number in _words(text)


@pytest.mark.parametrize("text, intent, overview", [
    ("tell me about your wine club", "ask_club", True), ("what's milea miles?", "ask_loyalty", True),
    ("club discount?", "ask_club", False), ("dogs?", "ask_visit_policies", False),
    ("what kind of tastings do you offer", "ask_tastings", True),
])
def test_a_message_naming_only_its_topic_asks_the_overview(text, intent, overview):
    assert (overview_question(text, intent) == INTENT_DEFAULT_QUESTIONS[intent]) is overview


def test_a_group_plans_other_question_is_its_pet_or_child():
    text = "planning a bday thing tmrw (sat) - 12 of us plus our golden retriever. what do we need to know?"
    assert "retriever" in rest_of(text) and "12" not in rest_of(text) and "bday" not in rest_of(text)
    assert rest_intent(text, "ask_reservation") == "ask_visit_policies"
    assert rest_intent("12 of us saturday, can we come?", "ask_reservation") == "ask_reservation"


def test_a_grape_we_do_not_make_asked_after_a_story():
    assert asks_for_a_grape_we_lack("We spent a week in the Finger Lakes. Do you make a Riesling too?")
    assert not asks_for_a_grape_we_lack("we loved the riesling up there")
    assert not asks_for_a_grape_we_lack("do you make a chardonnay?")


def test_a_list_of_a_kind_asks_its_overview():
    from actions.knowledge.service import listing_intent
    assert listing_intent("what kind of tastings can we book?") == "ask_tastings"
    assert listing_intent("which flights do you have") == "ask_tastings"
    assert listing_intent("what tiers are there") == "ask_club"
    assert listing_intent("what time do you open") is None
    assert overview_question("what kind of tastings can we book?", "ask_tastings") == \
        INTENT_DEFAULT_QUESTIONS["ask_tastings"]


def test_a_message_asking_two_visit_rules_is_split_by_rule():
    from actions.answering.party import policy_parts
    parts = policy_parts("Bringing my mother who uses a wheelchair and my two kids (8 and 11). Is that ok?")
    assert len(parts) == 2 and "wheelchair" in parts[0] and "kids" in parts[1]
    assert policy_parts("can i bring my dog") == []


# ---- numbers said in words (actions/answering/numbers.py): one table for prices, head counts and choices

@pytest.mark.parametrize("text, ceiling", [("any reds for thirty bucks or less?", 30),
                                           ("nothing over forty-five dollars", 45),
                                           ("something under twenty five", 25), ("30 dollars tops", 30)])
def test_a_price_ceiling_said_in_words_counts(text, ceiling):
    assert read_wish(text).max_price == ceiling


@pytest.mark.parametrize("text, people", [("there will be twelve of us", 12), ("party of forty five", 45),
                                          ("we're eleven", 11), ("table of six", 6)])
def test_a_head_count_said_in_words_counts(text, people):
    assert head_count(text) == people


@pytest.mark.parametrize("text", ["if we're 10 min late do we lose our spot", "we are about 20 minutes away",
                                  "we'll be there in 2 hours, we're 2 hrs out"])
def test_a_time_or_a_distance_is_no_head_count(text):
    assert head_count(text) is None


def test_one_is_not_read_as_a_number():
    assert with_digits("the reserve one") == "the reserve one"


@pytest.mark.parametrize("text, about_itself", [("is that one a red?", True), ("so is it dry", True),
                                                ("isn't this one a white", True), ("what about a white?", False),
                                                ("is there a red under 30?", False), ("the red one", False)])
def test_a_question_about_what_the_subject_is(text, about_itself):
    """"is that one a red?" asks the subject's type; "what about a white?" starts a new search."""
    assert asks_what_it_is(text) is about_itself


@pytest.mark.parametrize("text, picked", [
    ("no sorry I meant the middle one", "Grand Prix"), ("the 2nd option pls", "Grand Prix"),
    ("the last one?", "Triple Crown"), ("ok what about the first", "Jumper"),
    ("what time is the last call", None), ("the first weekend of january", None),
])
def test_a_place_in_the_list_picks_from_it(text, picked):
    from types import SimpleNamespace
    from actions.answering.choose import by_place
    tiers = [SimpleNamespace(name=n) for n in ("Jumper", "Grand Prix", "Triple Crown")]
    chosen = by_place(text, tiers)
    assert (chosen.name if chosen else None) == picked
