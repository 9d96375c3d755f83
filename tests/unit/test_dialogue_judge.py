"""The dialogue judge of `make eval` and the blind rounds: a check it does not know is a problem,
never a silent pass (a round written with other key names once scored every turn right)."""
from scripts.dialogue_eval import judge

REPLY = [{"text": "The Farmhouse Flight is $20 per person."}]


def test_known_checks_pass_and_fail_on_the_reply():
    assert judge(REPLY, {"all": ["$20"], "any": ["Farmhouse", "Heritage"], "none": ["$32"]}) == []
    assert judge(REPLY, {"all": ["$25"]}) == ["missing '$25'"]
    assert judge(REPLY, {"none": ["$20"]}) == ["says '$20'"]


def test_an_unknown_check_is_a_problem_not_a_pass():
    problems = judge(REPLY, {"contains": ["$99"]})
    assert problems and "unknown check 'contains'" in problems[0]
