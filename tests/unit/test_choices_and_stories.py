"""Choices over a set by what the things' own passages say, the question inside a story, and the
other kinds fixed after blind round 11 (issue "Visitors' own words"); phrasings of our own, the
round's dialogues stay unseen."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker

from actions.answering.party import head_count
from actions.forms.club_signup import ValidateClubSignupForm
from actions.knowledge.answer import _repeats
from actions.knowledge_answers import form_wanted
from tests.unit.test_conversation import Conversation, use_test_service  # noqa: F401 - the fixture


def test_a_price_asked_of_a_name_two_wines_share_gives_both():
    reply = Conversation().say("how much is your rose", "ask_wine")
    assert "$25" in reply["text"] and "$30" in reply["text"]
    assert "Which one do you mean" not in reply["text"]


def test_a_wine_chosen_by_what_only_its_own_passage_says():
    c = Conversation()
    c.say("what reds do you have?", "ask_wine")
    chosen = c.say("i want the one made with Sang's Vineyard fruit - how does it finish?", "ask_wine")["text"]
    assert "Reserve Cabernet Franc" in chosen and "lavender" in chosen


def test_options_within_a_budget_are_all_listed_and_one_chosen_by_its_vines():
    c = Conversation()
    listed = c.say("shopping for my aunt, white only, nothing over $35. what are the options?", "ask_wine")["text"]
    assert all(name in listed for name in ("Farmhouse Chardonnay", "Seyval Blanc", "Gruner Veltliner"))
    vines = c.say("tell me about the one from old vines, when were they planted?", "ask_wine")["text"]
    assert "1974" in vines


def test_compare_says_the_attribute_of_both():
    c = Conversation()
    c.say("what's the finish like on the reserve cab franc?", "ask_wine", wine="Reserve Cabernet Franc")
    both = c.say("and how does its price compare with the farmhouse one?", "ask_wine", wine="farmhouse")["text"]
    assert "$45" in both and "$32" in both


def test_the_question_sentence_of_a_story_names_what_is_asked():
    tier = Conversation().say("We always buy the Reserve Cab Franc when we visit. Thinking about the club. "
                              "Which tier is the least expensive, and how much does it take off?", "ask_club")["text"]
    assert "Jumper" in tier and "10%" in tier
    bottle = Conversation().say("We toured Napa and Sonoma last spring, loved it. What's your cheapest bottle?",
                                "ask_wine")["text"]
    assert "Queen of the Meadow" in bottle and "$25" in bottle


def test_a_wine_we_lack_asked_as_a_follow_up():
    c = Conversation()
    c.say("do you make a merlot?", "ask_wine")
    assert "do not make a Riesling" in c.say("hmm how about riesling", "ask_wine", varietal="riesling")["text"]


def test_a_tasting_chosen_by_what_it_includes_then_the_other_of_its_sort():
    c = Conversation()
    c.say("what tasting experiences are there?", "ask_tastings")
    long = c.say("the one that includes charcuterie, how long is it?", "ask_tastings")["text"]
    assert "Private Tour" in long and "2 hours" in long
    other = c.say("and the other one, what's the price?", "ask_tastings")["text"]
    assert "Seated Guided Tasting" in other and "$25" in other


def test_flights_asked_for_are_listed_alone_and_chosen_among():
    c = Conversation()
    listed = c.say("which flights can we get?", "ask_tastings")["text"]
    assert "Heritage Flight" in listed and "Private Tour" not in listed
    assert "Heritage Flight" in c.say("which one costs the most", "ask_tastings")["text"]


def test_a_tasting_noun_in_an_unsure_message_asks_of_tastings():
    reply = Conversation().say("a few of us want a tasting on a budget lol what's the cheapest", "nlu_fallback")["text"]
    assert "Farmhouse Flight" in reply and "$20" in reply


def test_what_you_get_with_a_tier_is_all_its_facts():
    reply = Conversation().say("what do members get with the Triple Crown?", "ask_club", club_tier="Triple Crown")["text"]
    assert "12 bottles" in reply and "$255" in reply and "15%" in reply


def test_the_next_club_shipment_is_read_from_the_calendar():
    c = Conversation()
    c.say("when do club shipments go out?", "ask_club")
    assert "December" in c.say("if i joined today when would my first box come", "ask_club")["text"]


def test_milea_miles_named_is_the_loyalty_program_whatever_nlu_said():
    c = Conversation()
    assert "20" in c.say("do I have to be in the club to earn Milea Miles?", "ask_club")["text"]
    assert "5,000" in c.say("and if I refer someone who joins?", "ask_club")["text"]


def test_a_head_count_written_with_a_hyphen():
    assert head_count("for the 14-person group, where do we book?") == 14
    assert head_count("a 2-hour limit") is None


def test_a_question_beside_the_wish_to_join_is_answered_first():
    form = ValidateClubSignupForm()
    assert form.answers_first_of("what's the grand prix? can I sign up for it?")
    assert form.answers_first_of("if i join can i cancel after two shipments")
    assert not form.answers_first_of("can I join the club?")
    assert not form.answers_first_of("sign me up for the jumper please")


def _tracker(text: str, ranking: list[dict], active_loop: str | None = None) -> Tracker:
    message = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.45}, "intent_ranking": ranking}
    return Tracker("form-user", {}, message, [], False, None, {"name": active_loop}, "rest")


def test_an_unsure_sign_me_up_starts_the_form_it_ranks_first():
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "join_club", "confidence": 0.41},
               {"name": "ask_wine", "confidence": 0.3}]
    assert form_wanted(_tracker("great, sign me up for that one", ranking)) == "club_signup_form"
    assert form_wanted(_tracker("can you sign me up for that one?", ranking)) == ""   # a question
    assert form_wanted(_tracker("great, sign me up for that one", ranking, "feedback_form")) == ""
    low = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "join_club", "confidence": 0.2}]
    assert form_wanted(_tracker("great, sign me up for that one", low)) == ""


def test_a_sentence_with_a_number_of_its_own_is_not_a_repeat():
    outdoor = {"outdoor", "music", "event", "allowed", "until", "8", "pm"}
    assert not _repeats({"indoor", "music", "event", "allowed", "until", "11", "pm"}, outdoor)
    assert _repeats({"music", "event", "allowed", "until", "8", "pm", "outside"}, outdoor)


def test_two_attributes_asked_together_are_both_answered():
    both = Conversation().say("what comes with the private tour and how long does it run?", "ask_tastings")["text"]
    assert "2 hours" in both and "barrel" in both


def test_a_superlative_narrowed_by_a_name_word_beside_it():
    c = Conversation()
    c.say("what tasting experiences are there?", "ask_tastings")
    assert "90 minutes" in c.say("and the cheaper seated one, how long does that take", "ask_tastings")["text"]


def test_what_about_another_thing_asks_the_same_attribute():
    c = Conversation()
    assert "200" in c.say("what's the signup bonus for grand prix?", "ask_club", club_tier="Grand Prix")["text"]
    assert "400" in c.say("what about triple crown", "ask_club", club_tier="Triple Crown")["text"]


def test_the_question_clause_decides_between_two_attributes_named():
    c = Conversation()
    c.say("which of your wines scored best?", "ask_wine")
    finish = c.say("ok. the reserve one of that same grape, what's the finish like", "ask_wine")["text"]
    assert "tobacco" in finish


def test_a_hand_off_needs_someone_asked_for():
    from actions.handoff import ASKS_FOR_SOMEONE
    assert ASKS_FOR_SOMEONE.search("can I talk to a real person")
    assert ASKS_FOR_SOMEONE.search("put me in touch with someone")
    assert ASKS_FOR_SOMEONE.search("is anyone there?")
    assert not ASKS_FOR_SOMEONE.search("price per person?")
    assert not ASKS_FOR_SOMEONE.search("how does someone get invited?")


def test_two_questions_in_one_message_are_split_unless_the_second_points_back():
    from actions.responder import question_parts
    assert question_parts("whats the site fee and how much is the deposit") == ["whats the site fee",
                                                                                 "how much is the deposit"]
    assert question_parts("what is the price and what do you get for it?") == []


def test_a_plan_on_a_closed_date_hears_it_is_closed_and_no_other_day():
    from datetime import date

    from core.business_hours import resolve_days
    _, days = resolve_days("ski weekend around jan 10th, thought we'd stop for a tasting, does that work?", [],
                           date(2026, 11, 27))
    assert days == [date(2027, 1, 10)]   # not this weekend, and "we'd" is not Wednesday
    reply = Conversation().say("we're driving up around jan 10th and thought we'd stop for a tasting on the way, "
                               "does that work?", "ask_reservation")["text"]
    assert "closed" in reply and "January 15" in reply and "December" not in reply


@pytest.mark.parametrize("text, count", [
    ("my sister, her husband, the three kids and us two, thats 7 plus a stroller", 7),
    ("scratch that, we're now at 16", 16),
    ("we're up to 11 people", 11),
    ("we'll be there at 5pm", None),
    ("we're at 4:30 on saturday", None),
    ("that makes sense, thanks", None),
    ("running club here, 14 runners, saturday ok?", 14),
    ("ugh two more cousins now, make it 19", 19),
])
def test_a_head_count_summed_up_or_revised_and_not_a_time(text, count):
    assert head_count(text) == count


def test_needing_a_person_plainly_is_a_hand_off():
    from actions.responder import WANTS_A_PERSON
    assert WANTS_A_PERSON.search("honestly i just need a person, the order came wrong")
    assert not WANTS_A_PERSON.search("do i need a reservation for one person")
