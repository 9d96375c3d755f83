"""Follow-ups read in the conversation (issue "Visitors' own words", blind round 9's kinds): the day
talked about, "the other one" of a pair, "it" in a knowledge question, a superlative by any attribute,
a kind named by its noun, accents, and the question inside a longer message. Whole conversations
through the answering actions, as tests/unit/test_conversation.py runs them (NLU given per turn)."""
from __future__ import annotations

from actions.account.owner import names_nobody
from actions.common import without_accents
from actions.converse import question_part
from tests.unit.test_conversation import Conversation, use_test_service  # noqa: F401 - the fixture


def test_the_other_one_of_a_pair_is_priced_though_the_first_was_talked_about():
    c = Conversation()
    c.say("need bubbles for new years eve!! what sparkling do you make", "ask_wine")
    c.say("whats in the brut", "ask_wine")
    c.say("how long was it aged on the lees", "ask_wine")
    other = c.say("and the other one is how much?", "ask_wine")["text"]
    assert "Blanc de Blanc" in other and "$55" in other and "$45" not in other


def test_a_superlative_by_an_attribute_the_aspects_do_not_know():
    c = Conversation()
    oldest = c.say("whats the oldest vintage you're selling right now", "ask_wine")["text"]
    assert "Farmhouse BDX Red Blend" in oldest and "2021" in oldest
    assert "$32" in c.say("how much?", "ask_wine")["text"]


def test_accents_do_not_hide_a_wine_or_an_attribute():
    assert without_accents("grüner, cépage, rosé") == "gruner, cepage, rose"
    c = Conversation()
    origin = c.say("is the grüner all from your own vineyard?", "ask_wine")["text"]
    assert "Gruner Veltliner" in origin and "Finger Lakes" in origin
    grapes = c.say("Sommelier here. What's the cépage on the Vincenza?", "ask_wine")["text"]
    assert "Merlot" in grapes and "Petit Verdot" in grapes


def test_a_day_in_a_message_about_something_else_is_not_the_hours_asked():
    assert question_part("we booked for sat at 3 but we might be late, how long do you hold the table?") \
        == "how long do you hold the table?"
    assert question_part("can we come by monday around 2") == "can we come by monday around 2"
    c = Conversation()
    hold = c.say("we booked a tasting for sat at 3 but traffic from the city might make us late, "
                 "how long do you hold the table?", "nlu_fallback")["text"]
    assert "15 minutes" in hold and "7:00 PM" not in hold


def test_a_time_asked_after_a_plan_is_about_the_day_of_the_plan():
    c = Conversation()
    c.say("6 of us coming sat the 28th + our dog, is that ok & do we need to book?", "ask_reservation")
    late = c.say("cool. we probably won't get there till like 5, is that too late to start a tasting?",
                 "nlu_fallback")["text"]
    assert "Saturday" in late and "6:00 PM" in late
    assert "Monday-Tuesday" not in late   # not the week's hours


def test_it_in_a_knowledge_question_is_what_was_talked_about():
    c = Conversation()
    c.say("is there anywhere to stay right on the estate?", "ask_about")
    sleeps = c.say("how many people does it sleep", "ask_about")["text"]
    assert "Staatsburg House" in sleeps and "6" in sleeps
    assert "102-acre" not in sleeps


def test_a_question_the_words_clearly_find_keeps_its_own_answer():
    c = Conversation()
    c.say("how many acres of cab franc do you grow", "ask_about")
    soil = c.say("what kind of soil is it", "ask_about")["text"]
    assert "Dutchess" in soil


def test_a_tier_by_its_noun_and_its_discount_by_how_much_off():
    c = Conversation()
    cheapest = c.say("ok then what's the cheapest level, I'll do it myself", "ask_wine")["text"]
    assert "Jumper" in cheapest and "$104" in cheapest and "Queen of the Meadow" not in cheapest
    c = Conversation()
    c.say("which club level gets a discount on the food and lodging too?", "ask_club")
    off = c.say("how much off", "ask_events")["text"]
    assert "15%" in off and "$255" not in off


def test_an_account_question_must_name_the_customer_to_be_theirs():
    from rasa_sdk import Tracker

    def tracker(text, entities=()):
        message = {"text": text, "intent": {"name": "ask_my_membership"}, "entities": list(entities)}
        return Tracker("x", {}, message, [], False, None, {}, "rest")
    assert names_nobody(tracker("when's the next shipment going out"))
    assert names_nobody(tracker("fine. can you at least tell me when the next shipment is"))
    assert not names_nobody(tracker("when does my next shipment go out"))
    assert not names_nobody(tracker("next shipment for jo@example.com?", [{"entity": "email", "value": "jo@example.com"}]))


def test_a_grape_spoken_of_as_planted_is_the_vineyard_not_a_wine_to_choose():
    acres = Conversation().say("how many acres of the cab franc?", "ask_wine")["text"]
    assert "3 acres" in acres and "Which one" not in acres
    planted = Conversation().say("besides cab franc and gruner, what else is planted on the estate?", "ask_wine")["text"]
    assert "Blaufrankisch" in planted and "Traminette" in planted
    # where a wine's grapes were grown differs between the two cab francs: that one is still asked
    assert "Which one" in Conversation().say("where were the grapes for the cab franc grown?", "ask_wine")["text"]


def test_how_much_of_an_attribute_asks_that_attribute_not_the_price():
    c = Conversation()
    oak = c.say("Question about your Reserve Chardonnay - how much new oak does it see and for how long?", "ask_wine",
                wine="Reserve Chardonnay")["text"]
    assert "15%" in oak and "10 months" in oak and "$40" not in oak
    assert "$40" in Conversation().say("how much is the reserve chardonnay?", "ask_wine", wine="Reserve Chardonnay")["text"]


def test_who_asks_for_a_person_whatever_the_topic():
    gm = Conversation().say("who's in charge of running the whole operation day to day", "ask_about")["text"]
    assert "Russell Moss" in gm
    events = Conversation().say("who would I be working with to plan an event there? name pls", "ask_events")["text"]
    assert "Laney Acevedo" in events


def test_an_overview_of_a_kind_names_every_one_of_it():
    tastings = Conversation().say("what kind of tastings do u do", "ask_tastings")["text"]
    for name in ("Seated Guided Tasting", "Private Tour & Tasting", "Heritage Flight"):
        assert name in tastings
    club = Conversation().say("what are the wine club options", "ask_club")["text"]
    assert all(t in club for t in ("Jumper", "Grand Prix", "Triple Crown"))


def test_an_attribute_only_the_prose_holds_is_answered_from_it():
    brut = Conversation().say("the Right Bank Brut is non-vintage but which harvest is it actually from?", "ask_wine",
                              wine="HVV Right Bank Brut Cuvee")["text"]
    assert "2020" in brut


def test_points_earned_by_joining_or_referring_are_milea_miles_not_a_score():
    referral = Conversation().say("my friend said if I get someone to join the club I get a ton of points?? how many is it",
                                  "ask_wine")["text"]
    assert "5,000" in referral and "Wine Enthusiast" not in referral
    best = Conversation().say("which wine got the most points?", "ask_wine")["text"]
    assert "92" in best


def test_a_budget_is_a_bound_and_a_style_guy_is_what_he_likes():
    gift = Conversation().say("Hi, looking for a birthday gift for my dad, he's a big Bordeaux guy. Budget is $50 max - "
                              "what Bordeaux-style wines do you have?", "ask_wine")["text"]
    assert "Vincenza" in gift and "BDX" in gift and "Queen of the Meadow" not in gift
    assert "Queen of the Meadow" in Conversation().say("whats good on a budget", "ask_wine")["text"]


def test_points_the_customer_states_are_what_they_buy_whatever_nlu_said():
    stated = Conversation().say("I have about 5000 points, what can I get with that?", "ask_wine")["text"]
    assert "5,000" in stated and "50%" in stated and "Wine Enthusiast" not in stated


def test_attribute_words_of_the_schema():
    blend = Conversation().say("What's blended into the Vincenza?", "ask_wine", wine="Vincenza Reserve BDX Blend")["text"]
    assert "Merlot" in blend and "Petit Verdot" in blend
    top = Conversation().say("which of your flights is the top-end one and what's it cost?", "ask_tastings")["text"]
    assert "Heritage Flight" in top and "$32" in top


def test_the_question_of_a_message_says_what_is_asked_not_its_story():
    like = Conversation().say("Good afternoon. My late husband adored Cabernet Franc and I would like to buy a bottle in "
                              "his memory. What is your Reserve Cabernet Franc like?", "ask_wine",
                              wine="Reserve Cabernet Franc")["text"]
    assert "Reserve Cabernet Franc" in like and "/product/" not in like
    assert any(note in like for note in ("plum", "cassis", "graphite", "vanilla"))
    buy = Conversation().say("we loved the reserve cab franc. can I order it online?", "ask_wine",
                             wine="Reserve Cabernet Franc")["text"]
    assert "/product/" in buy


def test_a_type_named_in_a_choice_narrows_the_set_listed():
    c = Conversation()
    assert "Blanc de Blanc" in c.say("what's the priciest bottle you sell", "ask_wine")["text"]
    cheaper = c.say("ok whats the cheaper bubbly then", "ask_wine")["text"]
    assert "Brut Cuvee" in cheaper and "$45" in cheaper


def test_a_score_asked_outright_is_the_best_rated_whatever_the_gift():
    top = Conversation().say("What's your top rated wine? Bringing a gift to a wine snob friend", "ask_wine")["text"]
    assert "92" in top and "Farmhouse Cabernet Franc" in top


def test_which_ones_of_a_style_they_like_names_every_match():
    blends = Conversation().say("I'm into Bordeaux-style blends. Which ones do you make?", "ask_wine")["text"]
    assert "Vincenza" in blends and "Farmhouse BDX" in blends


def test_milea_miles_asked_by_a_tier_member_is_the_loyalty_program_not_the_tier():
    c = Conversation()
    said = c.say("grand prix member here - how many milea miles do my purchases earn", "ask_club",
                 club_tier="Grand Prix")["text"]
    assert "3 points per dollar" in said and "6 bottles" not in said


def test_an_unsure_follow_up_is_answered_from_the_topic_being_talked_about():
    c = Conversation()
    c.say("how does the milea miles thing work", "ask_loyalty")
    said = c.say("anything extra when you first sign on", "nlu_fallback")["text"]
    assert "100 points" in said


def test_an_unsure_message_without_a_wine_word_is_not_answered_with_bottles():
    c = Conversation()
    said = c.say("any private option for our anniversary instead of the normal tasting?", "nlu_fallback")["text"]
    assert "Private Tour" in said and "I'd suggest" not in said


def test_picking_up_is_not_picking_a_wine():
    said = Conversation().say("once i'm a member could i pick up my box myself rather than pay to ship",
                              "nlu_fallback")["text"]
    assert "pick up" in said and "I'd suggest" not in said


def test_what_the_fallback_found_is_the_topic_a_vague_follow_up_continues():
    c = Conversation()
    first = c.say("my friends are in the club, is there ever a party for members", "nlu_fallback")["text"]
    assert "spring club party" in first
    said = c.say("and what do the rest of us pay", "ask_wine")["text"]
    assert "$35" in said


def test_the_price_of_a_reward_bought_in_the_shop_is_not_asked_in_points():
    from actions.converse import answer_reward
    from core.paths import ROOT

    assert answer_reward("how much is the wine key if i buy it", ROOT / "knowledge", None, follow_up=True) is None
    assert answer_reward("how many points for the wine key", ROOT / "knowledge", None) is not None


def test_which_of_those_filters_the_list_just_shown():
    c = Conversation()
    c.say("what do you have for thirty dollars or under", "ask_wine")
    said = c.say("of those which ones are white", "ask_wine")["text"]
    assert "Farmhouse Chardonnay" in said and "Reserve Chardonnay" not in said and "Gruner" not in said


def test_food_asked_with_a_budget_is_the_menu_not_wine():
    said = Conversation().say("is there anything to eat for under 40 dollars", "ask_wine")["text"]
    assert "lobster roll" in said and "Farmhouse" not in said


def test_a_plan_to_bring_food_gets_the_rule():
    said = Conversation().say("cool, we'll just pack a cooler of snacks then", "ask_wine")["text"]
    assert "not permitted" in said


def test_the_day_a_party_named_is_the_day_a_later_question_asks_about():
    c = Conversation()
    c.say("four couples and two friends, that's 10, coming wednesday the 2nd", "ask_reservation")
    said = c.say("what's the latest we could sit down that day", "ask_hours")["text"]
    assert "December 2" in said and "4:00 PM" in said


def test_one_more_wine_after_a_flight_is_the_additional_pour():
    c = Conversation()
    c.say("what's your cheapest flight", "ask_tastings")
    assert "$5" in c.say("and if i want one more wine after it", "ask_wine")["text"]


def test_a_party_with_kids_and_a_dog_gets_each_rule():
    said = Conversation().say("there'll be 11 of us incl my 2 kids, plus our beagle, anything to know", "ask_reservation")["text"]
    assert "$50" in said and "supervised" in said and "leash" in said


def test_food_to_bring_for_them_is_the_food_rule_not_them():
    c = Conversation()
    c.say("is it ok to bring the kids", "ask_visit_policies")
    said = c.say("and can we bring them some snacks", "ask_visit_policies")["text"]
    assert "not permitted" in said


def test_a_place_to_stay_asked_about_the_estate_is_the_staatsburg_house():
    said = Conversation().say("can guests spend the night anywhere on the grounds", "ask_about")["text"]
    assert "Staatsburg House" in said


def test_a_critics_score_asked_of_all_wines_is_the_best_rated_one():
    said = Conversation().say("any of your bottles get high marks from critics?", "ask_wine")["text"]
    assert "92 points" in said and "Farmhouse Cabernet Franc" in said


def test_the_old_farmhouse_asked_about_is_the_building_not_the_wines():
    said = Conversation().say("how far back does the history of that farmhouse go", "ask_wine")["text"]
    assert "1747" in said


def test_two_wines_compared_say_the_grapes_that_tell_them_apart():
    said = Conversation().say("brut cuvee vs blanc de blanc, what sets them apart", "ask_wine",
                              wine=["HVV Right Bank Brut Cuvee", "HVV Right Bank Blanc de Blanc"])["text"]
    assert "Pinot Noir" in said and "$45" in said and "$55" in said


def test_earning_points_asked_beside_the_club_is_milea_miles():
    said = Conversation().say("could i earn any points if i'm not a member of the club", "ask_club")["text"]
    assert "20 points" in said


def test_the_smallest_membership_asked_unsurely_is_the_entry_tier():
    said = Conversation().say("thinking of a wine club membership as a present. which is the smallest one",
                              "nlu_fallback")["text"]
    assert "Jumper" in said and "4 bottles" in said


def test_a_revised_head_count_read_as_feedback_is_still_the_party_rule():
    import asyncio
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher
    from actions.questions import answer_of_a_fact

    c = Conversation()
    c.say("theres 7 of us, a normal booking is fine right?", "ask_reservation")
    text = "hold on, more friends want in, make it 17"
    message = {"text": text, "intent": {"name": "give_feedback", "confidence": 0.7}, "entities": []}
    events = c.events + [{"event": "user", "text": text, "parse_data": message}]
    tracker = Tracker("conv-user", dict(c.slots), message, events, False, None, {"name": None}, "rest")
    dispatcher = CollectingDispatcher()
    assert asyncio.run(answer_of_a_fact(dispatcher, tracker)) is not None   # the form does not open
    assert "private event" in " ".join(m.get("text") or "" for m in dispatcher.messages)


def test_two_parts_finding_the_same_passage_say_each_sentence_once():
    from actions.responder import said_once
    assert said_once(["A table is held 15 minutes. Call if late.", "Call if late. Cancel 24 hours ahead."]) == \
        "A table is held 15 minutes. Call if late. Cancel 24 hours ahead."


def test_how_much_of_a_wine_got_made_is_its_production_not_its_price():
    said = Conversation().say("how much of the reserve chardonnay got made", "ask_wine",
                              wine="Reserve Chardonnay")["text"]
    assert "213" in said


def test_a_dropped_budget_does_not_make_the_priciest_the_cheapest():
    c = Conversation()
    c.say("something red under 35?", "ask_wine")
    said = c.say("eh never mind the budget, what's your most expensive red", "ask_wine")["text"]
    assert "$45" in said and "least expensive" not in said


def test_the_most_you_charge_for_a_bottle_is_the_dearest_wine():
    assert "$55" in Conversation().say("what's the most you charge for one bottle", "ask_wine")["text"]


def test_a_short_question_with_an_aside_still_follows_there():
    c = Conversation()
    c.say("is the staatsburg house a place to stay", "ask_about")
    said = c.say("how many can sleep there? my in-laws might come along after all", "nlu_fallback")["text"]
    assert "6" in said


def test_this_place_is_the_winery_not_the_last_thing_said():
    c = Conversation()
    c.say("our uber left us at the rymph rd gate, is that right", "ask_location")
    said = c.say("ok. how far is this place from albany", "ask_location")["text"]
    assert "Albany" in said and "1 hour" in said


def test_one_of_a_count_is_said_in_the_singular():
    said = Conversation().say("how many points per dollar do jumper members get", "ask_club", club_tier="Jumper")["text"]
    assert "1 point" in said and "1 points" not in said
