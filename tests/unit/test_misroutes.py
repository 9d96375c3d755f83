"""Misroutes with a cost: an account question needs the customer in it ("what's your phone number?"
asks the winery's, answered from the knowledge base with no proof asked for); a question inside praise
is asked, not taken for a request to rate."""
import pytest
from rasa_sdk import Tracker

from actions.account.owner import asks_about_the_winery


def tracker(text: str, entities=()) -> Tracker:
    return Tracker("t", {}, {"text": text, "intent": {"name": "ask_my_details", "confidence": 0.7},
                             "entities": list(entities)}, [], False, None, {}, "")


@pytest.mark.parametrize("text", ["what's your phone number", "whats ur phone #", "ur email?",
                                  "what email do you guys use", "what's the number for milea",
                                  "ok what's the email for that", "the number to call for weddings?"])
def test_the_winery_s_details(text):
    assert asks_about_the_winery(tracker(text))


@pytest.mark.parametrize("text", ["what email do you have for me", "is my phone number up to date",
                                  "which email is on file", "do you have our new address", "what do u have on me"])
def test_the_customer_s_details(text):
    assert not asks_about_the_winery(tracker(text))


def test_a_contact_given_makes_it_the_customer_s():
    text = "check the points for you-know-who at jane@example.com"
    assert not asks_about_the_winery(tracker(text, [{"entity": "email", "value": "jane@example.com"}]))


@pytest.mark.parametrize("text, asks", [
    ("we were there saturday and the lobster roll was amazing, how much is it btw?", True),
    ("and how much is it", True), ("so who runs the kitchen", True),
    ("can i leave a review of the private tour?", False), ("the staff were lovely, 5 stars", False),
    ("I'd like to give some feedback", False),
])
def test_a_question_inside_praise_is_asked(text, asks):
    from actions.questions import reads_as_question
    assert reads_as_question(text) is asks


@pytest.mark.parametrize("text, says", [("I have about 5000 points, what can I get with that?", True),
                                        ("got 12k miles, enough for anything?", True), ("how many points do i have", False)])
def test_points_said_need_no_balance(text, says):
    from actions.account.owner import states_points
    assert states_points(text) is says


@pytest.mark.parametrize("text, wants", [
    ("My September box arrived with a broken bottle. Can I talk to an actual person please?", True),
    ("can i speak with someone", True), ("i need a real person", True),
    ("am i talking to a bot", False), ("talk to you later", False), ("we want to chat with the winemaker", False),
])
def test_a_request_for_a_person_is_heard_in_any_message(text, wants):
    from actions.responder import WANTS_A_PERSON
    assert bool(WANTS_A_PERSON.search(text)) is wants
