"""Answers to a fact plan (actions/answering/interpret.py): what is asked of the thing or things,
and which thing of a set was meant. The sentences are responses of domain.yml (utter_fact_*)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from actions.answering import lookup
from actions.answering.interpret import Plan
from actions.converse import Reply
from actions.subject import SLOT_OF
from core.texts import render


def answer(plan: Plan, question: str, knowledge_dir: Path, channel: Optional[str]) -> Optional[Reply]:
    """The reply to the plan; None when nothing is known of what was asked (the caller goes on).

    Args: plan: the turn plan; question: the customer's words; knowledge_dir: for the things' prose;
        channel: the input channel (SMS versions of the responses).
    Returns: the texts, the wine rows (for cards) and the subject slots it talked about.
    """
    texts = []
    spoke_of = []   # the things something was said of
    if plan.attribute is None and len(plan.things) > 1:
        names = [t.name for t in plan.things]
        texts.append(render("utter_fact_these", channel, names=", the ".join(names[:-1]) + f" and the {names[-1]}"))
    for thing in plan.things if not texts else ():
        if plan.attribute is not None:
            said = lookup.say(thing, plan.attribute, question, knowledge_dir, channel)
        else:
            said = render("utter_fact_this_one", channel, name=thing.name)
        if not said:
            continue
        if plan.chose and plan.attribute is not None and thing.name.casefold() not in said.casefold():
            said = render("utter_fact_that_is", channel, name=thing.name) + " " + said
        texts.append(said)
        spoke_of.append(thing)
        if plan.also is not None:   # "...and how long does it run?"
            texts.append(lookup.say(thing, plan.also, question, knowledge_dir, channel))
    if not texts:
        return None
    # "does either of those have a rating?" when one has: that one is what "that one then" means next
    things = spoke_of if len(spoke_of) == 1 and plan.attribute is not None else plan.things
    reply = Reply(texts=[" ".join(t for t in texts if t)])
    reply.rows = [t.row for t in things if t.row is not None]
    if plan.kind in SLOT_OF:
        reply.slots = {"subject_kind": plan.kind, SLOT_OF[plan.kind]: things[0].name if len(things) == 1
                       else None, "subject_aspect": plan.attribute.name if plan.attribute else ""}
        if plan.kind == "tier" and len(things) == 1:
            reply.slots["club_tier"] = things[0].name   # "sign me up for that one" joins it
        if len(things) > 1:   # the things said are what a later "which" or "it" chooses from
            reply.slots.update({"subject_options": [t.name for t in things], "subject_aspect": "list"})
        elif plan.options:
            reply.slots["subject_options"] = plan.options
    elif plan.kind == "reward":
        reply.slots = {"subject_topic": "ask_loyalty"}
    return reply
