"""Answering one customer turn: shared by every answering action (wine,
knowledge, hours, fallback, and questions asked inside a form).

`respond` resolves the subject (actions/converse.py) and sends the structured
answer; when the turn is not about a subject it sends the action's own default
answer. It returns the events to apply and the catalog rows it used, so a card
can be attached to a wine answer.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import converse, offerings
from actions.handoff import hand_off
from core.clock import system_clock
from core import business_hours
from actions.answering.fact_answers import answer as answer_plan
from actions.answering.choose import narrowed
from actions.answering.facts import INTENT_OF_KIND, load as load_facts, schema as fact_schema
from actions.answering.interpret import interpret
from actions.answering.lookup import overlap, said_list
from actions.answering.numbers import states_points
from actions.answering.party import head_count, party_rule, policy_parts, rest_intent, rest_of
from actions.answering.scope import asks_about_food, asks_for_wine, asks_to_bring, kind_asked_of, winery_intent
from actions.answering.totals import total_line
from actions.texts import say, send
from actions.commerce7.catalog import available_products
from actions.commerce7.connection import get_client
from actions.identity import identified_customer
from actions.common import contact_line, latest_entities as latest_entities_of, latest_intent, latest_text, winery, with_link, without_accents
from actions.knowledge.service import INTENT_DEFAULT_QUESTIONS, get_service, listing_intent, overview_question
from actions.settings import get_settings
from actions.subject import KINDS, SLOT_OF, SUBJECT_SLOTS, Subject, names_a_day
from actions.recommend import read_wish
from actions.wine_catalog import load_wines, wine_rows
from core.knowledge.chunks import iter_sentences
from core.texts import render

log = logging.getLogger(__name__)

# A request for a person inside any message ("my box came broken, can I talk to an actual person?").
WANTS_A_PERSON = re.compile(r"\b(talk|speak|chat)\s+(to|with)\s+(an?\s+|some\s+)?(actual\s+|real\s+|live\s+)?"
                            r"(person|human|someone|somebody|staff|manager|agent|rep|representative)\b|"
                            r"\b(get|want|need)\s+(me\s+)?an?\s+(actual\s+|real\s+|live\s+)?(person|human)\b", re.I)
# Asking again for what we offered instead of a wine we don't make ("what's the closest thing then?").
_ALTERNATIVE = re.compile(r"\b(closest|instead|alternative|similar|next best|comparable|substitute|what else)\b", re.I)
# A wine recommendation, whatever the intent ("what would you recommend to celebrate?").
_SHOPPING = re.compile(r"\b(recommend|suggest|what (wine|bottle)|which (wine|bottle)|a (good )?bottle)\b", re.I)
# Questions where a head count asks the group policy ("we'll be 12, can we come Saturday?").
GROUP_INTENTS = frozenset({"ask_reservation", "ask_tastings", "ask_visit_policies", "ask_hours", "nlu_fallback",
                           "ask_events"})
SMALL_PARTY_MAX = 9   # below this a party books like anyone (knowledge/visiting/party-sizes.yml)
# the intents a question about bringing food along may be read as ("we'll just pack sandwiches then")
_BRING_ASKED_IN = ("ask_wine", "nlu_fallback", "ask_reservation", "ask_tastings", "ask_about", "ask_location")
_MERCH_WORDS = ("hat", "glass", "opener", "merch", "shirt", "corkscrew", "gift shop", "wine key", "swag")


@dataclass
class Outcome:
    events: list = field(default_factory=list)
    rows: list = field(default_factory=list)   # the wines the answer named, each with a .title (for cards)


def slots_before_turn(tracker: Tracker) -> dict:
    """Slot values as they were before the customer's latest message (so entity
    mappings of this turn do not hide what was talked about before)."""
    events = list(tracker.events or [])
    if not any(e.get("event") == "user" for e in events):   # no history given: the slots are all we know
        return {name: tracker.get_slot(name) for name in SUBJECT_SLOTS}
    values: dict = {}
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") in SUBJECT_SLOTS:
            values[event["name"]] = event.get("value")
        elif event.get("event") == "restart":
            values.clear()
    return values


def entity_values(tracker: Tracker) -> dict:
    found: dict = {}
    for entity in (tracker.latest_message or {}).get("entities") or []:
        value = entity.get("value")
        if isinstance(value, str) and entity.get("entity"):
            found.setdefault(entity["entity"], []).append(value)
    return found


def _send(dispatcher: CollectingDispatcher, reply: converse.Reply) -> None:
    for i, text in enumerate(reply.texts):
        last = i == len(reply.texts) - 1
        send(dispatcher, text, reply.buttons if last else [])


def _say_total(dispatcher: CollectingDispatcher, text: str, rows) -> None:
    """"What would 6 bottles come to?" after one wine's price: the sum, from the same row."""
    line = total_line(text, rows)
    if line:
        say(dispatcher, "utter_wine_total", count=line[0], name=line[1], total=line[2])


def _events(slots: dict) -> list:
    return [SlotSet(name, value) for name, value in slots.items()]


async def member_discount(tracker: Tracker) -> Optional[tuple[str, str]]:
    """(tier, discount) when the customer is verified (actions/identity.py) and an active club member."""
    try:
        customer = await identified_customer(tracker, get_settings(), get_client())
    except Exception as exc:  # a member discount is a nicety: never fail the answer for it
        log.info("member lookup skipped: %s", type(exc).__name__)
        return None
    for club in (customer.clubs if customer else []):
        if club.cancel_date:
            continue
        tier = offerings.find(get_settings().knowledge_dir, "tier", club.club_title)
        if tier:
            return tier.name, tier.facts["discount_text"]
    return None


async def respond(dispatcher: CollectingDispatcher, tracker: Tracker,
                  default: Optional[Callable[[CollectingDispatcher, Tracker, str], Awaitable[Outcome]]] = None,
                  clock: Optional[Callable[[], Any]] = None, intent: Optional[str] = None) -> Outcome:
    """Answer the latest message about its subject, or with `default` (the action's own answer).

    Args: dispatcher, tracker: as given to the action; default: the intent's own answer;
        clock: the hours action's clock (for "what about Sunday?"); intent: the intent to answer as
        (default: Rasa's), for a message NLU called off-topic that is about the winery after all.
    Returns: the events to apply and the rows used.
    """
    settings = get_settings()
    kdir = settings.knowledge_dir
    text = without_accents(latest_text(tracker))
    intent = intent or latest_intent(tracker)
    if WANTS_A_PERSON.search(text):
        # "my box came broken, can I talk to an actual person?": the hand-off, whatever else it says
        await hand_off(dispatcher, tracker, system_clock())
        return Outcome()
    channel = tracker.get_latest_input_channel()
    entities = entity_values(tracker)
    before = Subject.from_slots(slots_before_turn(tracker).get)
    if converse.asks_for_a_grape_we_lack(text):
        # "my wife only drinks pinot noir. do you make one?": that we don't, and what is closest,
        # whatever story came first and whatever blend holds a little of that grape
        products = await available_products()
        reply = converse.answer_wine_search(text, wine_rows(products or [], kdir), channel) if products else None
        if reply is not None and reply.texts:
            _send(dispatcher, reply)
            return Outcome(_events(reply.slots), reply.rows)
    if intent in ("ask_wine", "nlu_fallback", "ask_about") and converse.speaks_of_the_buildings(text):
        return await answer_from_knowledge(dispatcher, tracker, "ask_about")   # the farmhouse of 1747
    wish = read_wish(text)
    if before.kind == "wine" and before.aspect == "alternative" and _ALTERNATIVE.search(text) and before.current("wine") \
            and wish.empty:
        # "what's the closest thing you've got then?" after a wine we don't make: the one offered for it
        rows = [r for r in wine_rows(await available_products() or [], kdir) if r.title == before.current("wine")]
        if rows:
            say(dispatcher, "utter_wine_closest", label=rows[0].label, price=rows[0].price_text)
            return Outcome([SlotSet("subject_aspect", None)], rows)
    intent = listing_intent(text) or intent   # "what kind of tastings can we book?": the tastings
    if intent == "nlu_fallback" and not entities.get("wine"):
        # "me and 3 roommates wanna do a tasting, whats the cheapest option": a tasting's price
        asked_of = kind_asked_of(converse.question_sentences(text), fact_schema(kdir), question_mark=False)
        intent = INTENT_OF_KIND[asked_of] if asked_of else intent
    if intent in ("ask_wine", "nlu_fallback") and not entities.get("wine") and (_MILES.search(text) and _EARNING.search(text)
                                                             or states_points(text)):
        intent = "ask_loyalty"   # "if I get someone to join the club I get a ton of points?": Milea Miles, not a score
    if not entities.get("wine") and (intent in ("ask_wine", "nlu_fallback") and asks_about_food(text)
                                     or intent in _BRING_ASKED_IN and asks_to_bring(text)):
        # "can we pack a picnic and eat it here?", "any food under 35 bucks?": not a wine for a picnic
        intent = "ask_visit_policies"
    if intent in ("ask_club", "join_club") and (_PROGRAM.search(text) or not entities.get("club_tier") and
                                                (_REFERS.search(text) or _MILES.search(text) and _EARNS.search(text))):
        # "can I earn Milea Miles if I'm not a member?", "and if I refer a friend who joins?", "I'm a Jumper
        # member, do I get Milea Miles?": what referring brings is Milea Miles, whatever club words are around it
        intent = "ask_loyalty"
        if entities.get("club_tier"):   # "I'm a Jumper member, do I get Milea Miles?": the tier is who asks
            return await answer_from_knowledge(dispatcher, tracker, intent)
    if (intent == "ask_club" or intent == "nlu_fallback" and before.topic == "ask_club") and _NEXT_SHIPMENT.search(text):
        # "if I signed up now, when's my first one?": the month from the calendar, not a passage
        month = offerings.next_shipment_month(kdir, (clock or system_clock)())
        if month:
            say(dispatcher, "utter_club_next_shipment", month=month,
                months=said_list(offerings.shipment_months(kdir)))
            return Outcome([SlotSet("subject_topic", "ask_club")])
    if wish.types and (wish.max_price is not None or wish.min_price is not None):
        intent = "ask_wine"   # "a red under $35 to bring to my in-laws": shopping, whatever the story around it
    count = head_count(text) if intent in GROUP_INTENTS or before.topic == "ask_reservation" else None
    if count is not None and count < SMALL_PARTY_MAX and intent != "ask_reservation":
        count = None   # "just the two of us, do you do private tours?": the size changes nothing
    # a room named answers with its own capacity ("140 guests: does the clubhouse fit that many?")
    rule = party_rule(kdir, count) if count and not offerings.mentioned(text, offerings.spaces(kdir)) else None
    if rule:   # "there'll be 12 of us": the group policy, then whatever else the message asks
        return await _party(dispatcher, text, intent, count, rule, default, tracker, clock)
    asked = converse.question_sentences(text)
    asked_kind = kind_asked_of(asked, fact_schema(kdir)) if asked != text else ""
    if asked_kind and (asked_kind != "wine" or not _POINTS_AT_IT.search(asked)):
        # "we keep leaving with a case of the Reserve Cab Franc. which tier is the cheapest?", "we've
        # done Bordeaux. what's the least expensive bottle you sell?": the question's own kind; what
        # the story named is not what is asked about (unless the question points back at it)
        text = asked
        entities = {k: [v for v in vs if str(v).casefold() in asked.casefold()] if k == "wine" else vs
                    for k, vs in entities.items() if k != "wine" or asked_kind == "wine"}
    needs_catalog = intent in ("ask_wine", "nlu_fallback") or before.kind == "wine" or bool(entities.get("wine"))
    products = await available_products() if needs_catalog else None
    titles = tuple(p.title for p in products or [] if p.type == "Wine")
    wines = load_wines(kdir, titles)
    turn = converse.plan_turn(text, intent, entities, before, wines, kdir)
    if products is None and (turn.kind in ("wine", "experience") or not turn.kind):
        products = await available_products()
    log.debug("turn %s: intent=%s kind=%s names=%s aspect=%s", tracker.sender_id, intent, turn.kind, turn.names, turn.aspect)
    facts = load_facts(kdir, wine_rows(products or [], kdir), wines, products or [])
    plan = interpret(text, intent, turn, before, facts, get_service().embedder)
    if plan is not None and plan.describe:   # the thing chosen by a value, said whole by the subject path
        turn, plan = converse.Turn(plan.kind, [t.name for t in plan.things], ""), None
    if plan is not None and plan.unknown:   # asks what no attribute says: the knowledge, never another aspect
        return await (default or answer_from_knowledge)(dispatcher, tracker, intent)
    fact_reply = answer_plan(plan, text, kdir, channel) if plan else None
    if fact_reply is not None:
        log.debug("turn %s: fact plan %s %s of %s", tracker.sender_id, plan.kind,
                  plan.attribute.name if plan.attribute else "-", [t.name for t in plan.things])
        _send(dispatcher, fact_reply)
        _say_total(dispatcher, text, fact_reply.rows)
        return Outcome(_events(fact_reply.slots), fact_reply.rows)

    if not turn.kind and intent in OVERVIEW_KIND and overview_question(text, intent) != text:
        # "what kinds of tastings do you do?", "what are the club options?": every one of them, by name,
        # from the fact model (a few sentences of prose would name some and leave the rest out)
        kind = OVERVIEW_KIND[intent]
        # "what flights do you have?": the flights, not the tour beside them
        listed = narrowed(text, facts.standalone(kind), list(facts.attributes.get(kind, {}).values()))
        turn = converse.Turn(kind, [t.name for t in listed], "list")
    if turn.clarify and before.topic in FOLLOW_UP_TOPICS and not before.kind:
        # "what would it cost the ones who aren't members?" after the club party: the topic's own
        # knowledge when it has the answer, before asking what the customer means
        in_topic = await knowledge_of(tracker, text, before.topic)
        if in_topic.found and not in_topic.widened:
            dispatcher.utter_message(text=with_link(in_topic.text, in_topic.url))
            return Outcome([SlotSet("subject_topic", before.topic)])
    if turn.clarify:
        say(dispatcher, "utter_clarify_no_subject")
        return Outcome([SlotSet("subject_aspect", turn.aspect)])
    if turn.ambiguous:
        names = [f"the {w.title}" for w in turn.ambiguous[:5]]
        say(dispatcher, "utter_wine_which", count=len(names), names=" or ".join([", ".join(names[:-1]), names[-1]])
            if len(names) > 1 else names[0], buttons=[
            {"title": w.title, "payload": f'/ask_wine{{"wine": "{w.title}"}}'} for w in turn.ambiguous[:5]])
        return Outcome([SlotSet("subject_options", [w.title for w in turn.ambiguous]), SlotSet("subject_kind", "wine"),
                        SlotSet("subject_aspect", turn.aspect)], list(turn.ambiguous[:5]))  # shown as a carousel
    if turn.kind == "mixed":
        say(dispatcher, "utter_clarify_kinds")
        return Outcome()

    reply: Optional[converse.Reply] = None
    if turn.kind == "wine":
        if products is None:
            say(dispatcher, "utter_wine_no_live_data", title=turn.names[0] if turn.names else "wine",
                contact=contact_line())
            return Outcome()
        rows = wine_rows(products, kdir)
        member = await member_discount(tracker) if turn.aspect == "buy" else None
        reply = converse.answer_wines(turn, rows, channel, settings.store_product_url, member)
        if reply is not None and not reply.texts:   # prose about one wine: the knowledge base, with its price
            outcome = await _wine_prose(dispatcher, text, reply, kdir, channel)
            _say_total(dispatcher, text, reply.rows)
            return outcome
    elif turn.kind == "tier":
        reply = converse.answer_tiers(turn, kdir, channel)
    elif turn.kind == "experience":
        live = {p.title.casefold(): p.price_cents / 100 for p in products or []
                if p.type == "Tasting" and p.price_cents is not None}
        if turn.aspect in ("", "difference") and len(turn.names) == 1 and not turn.follow_up and intent == "ask_tastings":
            reply = None   # "tell me about the private tour": the prose says more
        else:
            reply = converse.answer_experiences(turn, kdir, channel, live)
    elif turn.kind == "space":
        reply = converse.answer_spaces(turn, kdir, channel, winery()["emails"]["events"])
    elif turn.kind == "state":
        reply = converse.answer_states(turn, kdir, channel)
    elif turn.kind == "date":
        schedule = business_hours.schedule_from(kdir / "hours.yml")
        days = entities.get("weekday", []) + entities.get("date_phrase", [])
        # a follow-up that names no day asks about the day talked about ("is 5 too late to start?")
        asked = text if days or names_a_day(text, []) or not turn.names or turn.names[0] == text \
            else f"{turn.names[0]} {text}"
        reply = converse.answer_day(asked, days, schedule, (clock or system_clock)(), before.date)
        if asked != text and reply.slots.get("subject_date") == asked:   # nothing resolved: the day before
            reply.slots["subject_date"] = turn.names[0]
    if reply is None and not turn.kind:
        reply = await _unnamed(turn, text, intent, before, products, kdir, channel)
    if reply is not None and reply.texts and settings.llm_enabled and reply.rows \
            and (reply.slots.get("subject_aspect") == "recommend" or turn.aspect == "pairing"):
        reply = await _checked_llm(reply, text, tracker, before, settings, wines, wine_rows(products or [], kdir))
    if reply is not None and reply.texts:
        _send(dispatcher, reply)
        _say_total(dispatcher, text, reply.rows)
        if turn.options and "subject_options" not in reply.slots:
            reply.slots["subject_options"] = turn.options
        return Outcome(_events(reply.slots), reply.rows)
    if not turn.kind and intent == "ask_wine" and converse.speaks_of_the_vineyard(text):
        intent = "ask_about"   # "how many acres of the cab franc?": the estate's plantings, not a bottle
    outcome = await (default or answer_from_knowledge)(dispatcher, tracker, intent)
    if turn.kind in KINDS and len(turn.names) == 1:   # the prose talked about the thing named
        outcome.events += [SlotSet("subject_kind", turn.kind), SlotSet(SLOT_OF[turn.kind], turn.names[0])]
    return outcome


async def _party(dispatcher, text: str, intent: str, count: int, rule: str, default, tracker, clock) -> Outcome:
    """A message with a head count: what a party that size needs, then the hours when it asks about
    time, or the knowledge's answer to the rest of it (the dog, the cake) when that says something else."""
    say(dispatcher, "utter_party_size", count=count, rule=rule)
    if intent == "ask_hours":
        if converse.asks_time(text):
            return await (default or answer_from_knowledge)(dispatcher, tracker, intent)
        return Outcome()
    rest, rest_topic = rest_of(text), rest_intent(text, intent) or None
    # "our two kids ... plus our old golden retriever": each rule asked, one search would keep one of them
    parts = (policy_parts(rest) if rest_topic == "ask_visit_policies" else []) or [rest]
    answers = [await get_service().answer(part, rest_topic) for part in parts]
    # the rest is answered from its own topic only: a passage found across all of them is a guess
    found = [a for a in answers if a.found and not a.widened and overlap(a.text, rule) < 0.5]
    if found:
        dispatcher.utter_message(text=with_link(said_once(a.text for a in found), found[0].url))
    # the day the party comes is what "is 5 too late to start?" asks about next
    schedule = business_hours.schedule_from(get_settings().knowledge_dir / "hours.yml")
    said = business_hours.day_said(text, [], schedule, (clock or system_clock)()) or text   # "November 29"
    day = [SlotSet("subject_date", said)] if names_a_day(text, []) else []
    return Outcome([SlotSet("subject_topic", "ask_reservation"), *day])


async def _checked_llm(reply: converse.Reply, text: str, tracker: Tracker, before: Subject, settings,
                       wines, all_rows) -> converse.Reply:
    """The LLM's answer to an open-ended wine question when it passes the checks, else the offline one."""
    from actions.wine_llm import WineLLM, history_of

    global _llm
    if _llm is None:
        _llm = WineLLM(settings)
    hits = await asyncio.to_thread(get_service().retriever.search, text, ("wine", "wine-guide"), 3)
    subject = before.current() or ""
    rows = list(reply.rows) + [r for r in all_rows if r.title == before.wine and r not in reply.rows]
    text_out = await _llm.answer(text, history_of(tracker.events or []), subject, rows,
                                 [h.passage.text for h in hits], [w.title for w in wines])
    if text_out:
        return converse.Reply(texts=[text_out], buttons=reply.buttons, rows=reply.rows, slots=reply.slots)
    return reply


_llm = None


async def _unnamed(turn, text, intent, before, products, kdir, channel) -> Optional[converse.Reply]:
    """Questions that name no subject: catalog searches, club/tasting comparisons, rewards."""
    if intent == "ask_loyalty" or (before.topic == "ask_loyalty" and intent in ("ask_wine", "nlu_fallback", "ask_shipping")):
        reward = converse.answer_reward(text, kdir, channel, follow_up=before.topic == "ask_loyalty")
        if reward:
            return reward
    if intent == "ask_club" and turn.aspect in ("cheaper", "dearer", "more", "discount", "bottles", "difference"):
        return converse.answer_tiers(converse.Turn("tier", [], turn.aspect), kdir, channel)
    if intent == "ask_tastings" and turn.aspect in ("cheaper", "dearer"):
        return converse.answer_experiences(converse.Turn("experience", [], turn.aspect), kdir, channel)
    if products is None and _SHOPPING.search(text):
        products = await available_products()
    if products and (intent == "ask_wine" or intent == "nlu_fallback" and asks_for_wine(text)
                     or converse.searches_the_catalog(text)):
        rows = wine_rows(products, kdir)
        if before.options and before.kind == "wine" and _OF_THOSE.search(text):
            # "which of those are white?": the wines just listed, not the whole catalog
            rows = [r for r in rows if r.title in before.options] or rows
        return converse.answer_wine_search(text, rows, channel)
    if products and _SHOPPING.search(text) and not read_wish(text).empty:   # e.g. classified as an event question
        return converse.answer_wine_search(text, wine_rows(products, kdir), channel)
    return None


_OF_THOSE = re.compile(r"\b(of|among|from|out of) (those|these|them|the ones)\b|\b(those|these)\b", re.I)


# "tell me about the Vincenza", "what's it like?", "more on that one": what the wine is, not one fact of it
_DESCRIBE = re.compile(r"^\W*(ok\W+|so\W+|and\W+)*(tell me (a bit |a little )?(more )?(about|abt|on)|(more )?(info|details) "
                       r"(on|about|abt)|describe|what('?s| is) (it|that( one)?|(the|your|ur) \w+( \w+){0,3}) like)\b", re.I)


def _wine_description(row, channel) -> str:
    return render("utter_wine_about", channel, label=row.label, style=row.style,
                  type_word=converse.TYPE_WORD.get(row.type, row.type),
                  grapes=render("utter_wine_made_from", channel, grapes=said_list([g.title() for g in row.grapes]))
                  if len(row.grapes) > 1 else "",
                  notes=render("utter_wine_notes", channel, notes=", ".join(row.notes[:3])) if row.notes else "")


async def _wine_prose(dispatcher, text, reply: converse.Reply, kdir, channel) -> Outcome:
    row = reply.rows[0]
    wines = load_wines(kdir, (row.title,))
    wine = next((w for w in wines if w.title == row.title), None)
    question = text or f"tell me about the {row.title}"
    answer = await get_service().answer(question, "ask_wine", prefer_source=wine.sources if wine else (),
                                        context=row.title)
    body = answer.text if answer.found and row.title.split()[0].casefold() in answer.text.casefold() else ""
    if not body or _DESCRIBE.search(converse.question_part(text or "")):
        body = _wine_description(row, channel)
    if "$" not in body and row.price_text:
        body += render("utter_wine_price_note", channel, price=row.price_text)
    dispatcher.utter_message(text=with_link(body, answer.url if answer.found else None))
    return Outcome(_events(reply.slots), [row])


# when the next (or a new member's first) club shipment goes out
_NEXT_SHIPMENT = re.compile(r"\b(first|next|upcoming|earliest)\s+(one|shipment|box|delivery|club shipment|release)\b|"
                            r"\bwhen\b.*\b(first|next)\s+(one|shipment|box)\b|\bwhich (one )?(is|comes) next\b", re.I)
# points earned by joining, referring or saving up are Milea Miles, not a wine's score
_MILES = re.compile(r"\b(points|pts|miles)\b", re.I)
_EARNING = re.compile(r"\b(earn|earned|earning|refer|referral|referring|join|joined|joins|sign up|signup|"
                      r"member|club|redeem|balance|expire|expiry|save up)\b", re.I)
_PROGRAM = re.compile(r"\bmilea miles\b", re.I)
_EARNS = re.compile(r"\b(earn|earns|earned|earning|rack up|collect)\b", re.I)   # "can you earn points if you're not in the club?"
_REFERS = re.compile(r"\b(refer|referral|referring|referred|bring (in )?a friend)\b", re.I)
# knowledge topics a follow-up that names nothing may continue (not the catalog's: a wine is a subject)
FOLLOW_UP_TOPICS = ("ask_events", "ask_club", "ask_loyalty", "ask_visit_policies", "ask_reservation", "ask_tastings",
                    "ask_about", "ask_location", "ask_shipping")
# the kind whose things an overview of the intent's topic lists
OVERVIEW_KIND = {"ask_club": "tier", "ask_tastings": "experience"}
PEOPLE_SOURCES = ("about/team.md",)
_ASKS_WHO = re.compile(r"^\W*((and|so|ok|okay|also|but)\W+)*(who|whos|who's|whom)\b|\b(who (is|would|will|do|does|"
                       r"handles|runs|makes|owns)|name (pls|please)|(their|his|her) name)\b", re.I)
CLEAR_HIT, CLEAR_MEANING = 0.4, 0.2   # a passage found this well by the question alone needs no help
# "how far is this from albany?", "is this place dog friendly": the winery itself, not the last thing talked about
_THE_WINERY = re.compile(r"\b(is this|this (place|winery|vineyard|spot|estate)|from (here|this))\b", re.I)
# a short question whose subject is a pronoun: the thing the customer asked about before
_POINTS_AT_IT = re.compile(r"\b(it|its|it's|they|them|that|this|there)\b", re.I)


def clearly_found(answer) -> bool:
    """A passage the words and the meaning of the question both found ("how long is it" finds some
    passage with "long" in it, by words alone)."""
    return answer.found and bool(answer.hits) and answer.hits[0].score >= CLEAR_HIT and answer.hits[0].dense >= CLEAR_MEANING


async def knowledge_of(tracker: Tracker, question: str, intent: Optional[str]):
    """The knowledge's answer to the question, read in the conversation: a short question about "it" or
    "they" that the question alone does not clearly find ("how many people does it sleep?" after the
    house on the estate) is about what the last answer spoke of, in whichever part of the knowledge
    that is; its own words pick the sentences."""
    # the question sentence counts, not the aside after it ("how many ppl can stay there? might invite our parents")
    previous = previous_question(tracker) if len(converse.question_sentences(question).split()) <= 8 else ""
    if _ASKS_WHO.search(question):
        # "who would I plan a wedding with?", "who runs the place?": a person, whatever topic the
        # question is in; the people are on the team page
        answer = await get_service().answer(question, None, prefer_source=PEOPLE_SOURCES)
    else:
        answer = await get_service().answer(question, intent or None)
    # (not when it asks to bring something: "we'll just pack them sandwiches then" asks about sandwiches)
    if previous and _POINTS_AT_IT.search(_THE_WINERY.sub(" ", question)) and not clearly_found(answer) \
            and not asks_to_bring(question):
        about_it = await get_service().answer(question, None, compose_from_question=True,
                                              context=f"{previous} {first_sentence(last_reply(tracker))}")
        answer = about_it if about_it.found else answer
    if not answer.found and previous:   # "what do those run?": asked of what was talked about before
        answer = await get_service().answer(question, intent or None, context=previous)
    return answer


# "whats the site fee for a wedding and how much is the deposit": two questions, each answered
_SECOND_QUESTION = re.compile(r"\s*(?:,|\band\b|\?|;)\s*(?=(?:what|whats|what's|how|when|where|who|which|is there|"
                              r"are there|do you|does it|can we|can i)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The questions a message asks one after another, when there are two or three of some length."""
    parts = [p.strip() for p in _SECOND_QUESTION.split(question or "") if p and p.strip()]
    if any(_POINTS_AT_IT.search(p) for p in parts[1:]):
        return []   # "what's the price and what do you get for it?": one question about one thing
    return parts if 2 <= len(parts) <= 3 and all(len(p.split()) >= 3 for p in parts) else []


async def answer_from_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    """The knowledge answer for the intent; it also records the topic, and for the
    club and tastings the things a follow-up may compare."""
    question = overview_question(latest_text(tracker), intent) or INTENT_DEFAULT_QUESTIONS.get(intent, "")
    parts = policy_parts(question) if intent == "ask_visit_policies" else question_parts(question)
    if len(parts) > 1:   # "my mother uses a wheelchair and my two kids are 8 and 11": each rule asked
        answers = [a for a in [await get_service().answer(p, intent) for p in parts] if a.found]
        if answers and (intent == "ask_visit_policies" or len(answers) == len(parts)):
            text = said_once(a.text for a in answers)
            dispatcher.utter_message(text=with_link(text, answers[0].url))
            return Outcome([SlotSet("subject_topic", intent)])
    answer = await knowledge_of(tracker, question, intent)
    wine_question = intent == "ask_wine"
    if answer.found and wine_question and any(s.startswith("shop/") for s in answer.sources) \
            and not any(w in question.casefold() for w in _MERCH_WORDS):
        answer = None   # a wine question is never answered with merchandise
    if answer is not None and answer.found:
        dispatcher.utter_message(text=with_link(answer.text, answer.url))
    else:
        say(dispatcher, "utter_dont_know", contact=contact_line())
        return Outcome()
    events = [SlotSet("subject_topic", intent)]
    kdir = get_settings().knowledge_dir
    if intent == "ask_club":
        events += [SlotSet("subject_kind", "tier"), SlotSet("subject_options", [t.name for t in offerings.tiers(kdir)])]
    elif intent == "ask_tastings":   # "what flights do you have?": the flights are what a later "which" picks from
        facts = load_facts(kdir)
        # by the customer's words: "what flights do you do?" lists the flights, though the overview
        # question it was searched as names every experience
        listed = narrowed(latest_text(tracker) or question, facts.standalone("experience"),
                          list(facts.attributes.get("experience", {}).values()))
        events += [SlotSet("subject_kind", "experience"), SlotSet("subject_options", [e.name for e in listed])]
    elif intent == "ask_loyalty":
        events += [SlotSet("subject_kind", None)]
    return Outcome(events)


def said_once(texts) -> str:
    """Answers to the parts of one message, joined with no sentence said twice (two parts often find
    the same passage)."""
    return " ".join(dict.fromkeys(sentence for text in texts for sentence in iter_sentences(text)))


def last_reply(tracker: Tracker) -> str:
    """The assistant's last answer before the latest message, when it said something of its own ("" after
    a reply of domain.yml such as "I don't know" or a clarifying question, which names no subject)."""
    said = [e for e in tracker.events or [] if e.get("event") == "bot" and e.get("text")]
    # a reply sent as a response of domain.yml carries the response's name in its metadata
    if not said or any(str(v).startswith("utter_") for v in (said[-1].get("metadata") or {}).values()):
        return ""
    return said[-1]["text"]


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""


def previous_question(tracker: Tracker) -> str:
    """The customer's message before the latest one ("" when there is none)."""
    said = [e.get("text") or "" for e in tracker.events or [] if e.get("event") == "user"]
    return said[-2] if len(said) >= 2 and not said[-2].startswith("/") else ""


async def winery_intent_of(tracker: Tracker, runner_up: bool = True) -> Optional[str]:
    """The winery intent an 'off-topic' message (or a bare yes or no) is really asking, or None.

    Args: tracker: the conversation; runner_up: whether the winery's words beside a runner-up winery
        intent count (for out_of_scope; a yes or a no must name a thing or an attribute).
    Returns: the intent to answer the message as, or None to give the intent's own reply."""
    text = latest_text(tracker)
    if not text:
        return None
    kdir = get_settings().knowledge_dir
    products = await available_products() or []
    rows = wine_rows(products, kdir)
    wines = load_wines(kdir, tuple(r.title for r in rows))
    named, _ = converse.named_wines(text, latest_entities_of(tracker, "wine"), wines, "out_of_scope")
    facts = load_facts(kdir, rows, wines, products)
    before = Subject.from_slots(slots_before_turn(tracker).get)
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return winery_intent(text, ranking if runner_up else [], before, facts, [w.title for w in named])
