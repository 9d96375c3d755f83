"""TED runs only for the predictions it can win.

Rasa asks every policy for every prediction, then keeps the best by (confidence, priority).
When the rule or the memoization policy is certain (confidence 1.0), TED cannot win: its
confidences are a softmax (at most 1.0) and its priority is the lowest. Yet it ran its
featurizer and its TensorFlow model, about a quarter of the server's CPU per message.
Most of this assistant's predictions are such certain ones: a rule answers the question,
then a rule listens.

Here TED's node gives a deferred prediction. The ensemble computes it only if no other
prediction is certain. The ensemble then picks exactly what it would have picked: same
action, policy, confidence and events. The shortcut is taken only when TED's prediction is
known to carry nothing else:
- TED was trained without end-to-end text (its prediction is never an end-to-end one that
  would overrule intent-based ones);
- no action was just rejected (the ensemble zeroes that action's confidence in every
  prediction first);
- the certain prediction is one the ensemble will consider (same no-user and end-to-end
  kind as the others);
- its priority is above TED's.
Otherwise TED runs as in Rasa. Only the TEDPolicy class itself is deferred: subclasses such as
UnexpecTEDIntentPolicy, and any other policy, run as Rasa runs them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

CERTAIN = 1.0


class DeferredPrediction(PolicyPrediction):
    """TED's prediction, not computed yet: the call that makes it, for the ensemble to make or skip.

    Its own probabilities are all zero, so even if something other than the ensemble read it
    it would never win; the ensemble replaces it before picking (see `decide_or_run_ted`).
    """

    def __init__(self, policy: TEDPolicy, tracker: DialogueStateTracker, domain: Domain,
                 kwargs: Dict[Text, Any]) -> None:
        super().__init__([0.0] * domain.num_actions, policy.__class__.__name__, policy.priority)
        self.policy, self.tracker, self.domain, self.kwargs = policy, tracker, domain, kwargs
        self.events_when_deferred = len(tracker.events)

    def computed(self) -> PolicyPrediction:
        return _ted_predicts(self.policy, self.tracker, self.domain, **self.kwargs)


_ted_predicts = TEDPolicy.predict_action_probabilities


def _last_action_rejected(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return True
        if isinstance(event, ActionExecuted):
            return False
    return False


def certain_without(deferred: DeferredPrediction, others: List[PolicyPrediction],
                    tracker: DialogueStateTracker) -> bool:
    """Whether the ensemble's pick among `others` stands whatever TED would predict."""
    if tracker is not deferred.tracker or len(tracker.events) != deferred.events_when_deferred:
        return False  # not the conversation it was deferred for, as it was
    if _last_action_rejected(tracker):
        return False
    no_user = any(p.is_no_user_prediction for p in others)
    end_to_end = any(p.is_end_to_end_prediction for p in others)
    for prediction in others:
        if prediction.is_no_user_prediction != no_user:
            continue
        if not no_user and prediction.is_end_to_end_prediction != end_to_end:
            continue
        if prediction.max_confidence >= CERTAIN and prediction.policy_priority > deferred.policy_priority:
            return True
    return False


def decide_or_run_ted(predictions: List[PolicyPrediction], tracker: DialogueStateTracker) -> List[PolicyPrediction]:
    """The predictions for the ensemble: each deferred TED prediction computed, or left at zero where it cannot win."""
    others = [p for p in predictions if not isinstance(p, DeferredPrediction)]
    decided: List[PolicyPrediction] = []
    for prediction in predictions:
        if isinstance(prediction, DeferredPrediction):
            if certain_without(prediction, others, tracker):
                prediction = PolicyPrediction(list(prediction.probabilities), prediction.policy_name,
                                              prediction.policy_priority)
            else:
                prediction = prediction.computed()
        decided.append(prediction)
    return decided


def defer_ted_until_needed() -> None:
    """Patch TEDPolicy (prediction) and the default ensemble (combination); applying twice is harmless."""
    if getattr(TEDPolicy.predict_action_probabilities, "_milea_deferred", False):
        return

    def predict_action_probabilities(self: TEDPolicy, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        if type(self) is not TEDPolicy or self.model is None or TEXT in self.fake_features:
            return _ted_predicts(self, tracker, domain, rule_only_data=rule_only_data, **kwargs)
        return DeferredPrediction(self, tracker, domain, {"rule_only_data": rule_only_data, **kwargs})

    combine = DefaultPolicyPredictionEnsemble.combine_predictions

    def combine_predictions(self: DefaultPolicyPredictionEnsemble, predictions: List[PolicyPrediction],
                            tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        return combine(self, decide_or_run_ted(predictions, tracker), tracker, domain)

    predict_action_probabilities._milea_deferred = True  # type: ignore[attr-defined]
    TEDPolicy.predict_action_probabilities = predict_action_probabilities
    DefaultPolicyPredictionEnsemble.combine_predictions = combine_predictions
