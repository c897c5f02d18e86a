"""A campaign's fraud policy: which signal leads to which action, and the velocity thresholds.

Stored in `Campaign.fraud_policy`, always in the normalized shape `fraud_policy_clean` returns:

    {}                                      no fraud checks at all (the default)
    {"bot": "block", "too_fast": "reject"}  accepted as input: the actions without thresholds
    {"actions": {"bot": "block", "too_fast": "reject"},
     "click_velocity_per_minute": 20, "conversion_velocity_per_day": 5,
     "alert_fraud_rejections_per_hour": 1}

`actions` names only the signals whose action is not `allow`: a signal not named is allowed and
not even evaluated, so a campaign pays only for the checks it asked for (the click path reads
"does this campaign name any click signal" to keep its one-statement fast path). The tracker
evaluates the signals (`tracker.fraud`); this module only says what a valid policy is.
"""

from collections.abc import Mapping
from typing import Any

from django.db import models

POSITIVE_INT_MAX = 2_147_483_647


class FraudSignal(models.TextChoices):
    BOT = "bot", "Bot or empty user agent"
    DENY_LIST = "deny_list", "IP in the deny list"
    DATACENTER = "datacenter", "IP in a data-center list"
    CLICK_VELOCITY = "click_velocity", "Too many clicks from one IP on one link in a minute"
    TOO_FAST = "too_fast", "Converted sooner than the campaign's minimum"
    IP_MISMATCH = "ip_mismatch", "Postback IP differs from the click's"
    CONVERSION_VELOCITY = "conversion_velocity", "Too many conversions from one IP in a day"


class FraudAction(models.TextChoices):
    ALLOW = "allow", "Allow"
    FLAG = "flag", "Flag (record the signal)"
    BLOCK = "block", "Block the click (fallback URL)"
    HOLD = "hold", "Hold the conversion (pending)"
    REJECT = "reject", "Reject the conversion"


CLICK_SIGNALS: tuple[str, ...] = (
    FraudSignal.BOT,
    FraudSignal.DENY_LIST,
    FraudSignal.DATACENTER,
    FraudSignal.CLICK_VELOCITY,
)
CONVERSION_SIGNALS: tuple[str, ...] = (
    FraudSignal.TOO_FAST,
    FraudSignal.IP_MISMATCH,
    FraudSignal.CONVERSION_VELOCITY,
)
CLICK_ACTIONS: tuple[str, ...] = (FraudAction.ALLOW, FraudAction.FLAG, FraudAction.BLOCK)
CONVERSION_ACTIONS: tuple[str, ...] = (
    FraudAction.ALLOW,
    FraudAction.FLAG,
    FraudAction.HOLD,
    FraudAction.REJECT,
)

# Thresholds: the key, its default and its smallest value.
THRESHOLDS: dict[str, tuple[int, int]] = {
    # `click_velocity`: more than this many clicks from one IP on one link in one minute.
    "click_velocity_per_minute": (20, 1),
    # `conversion_velocity`: more than this many conversions from one IP on the campaign in 24 h.
    "conversion_velocity_per_day": (5, 1),
    # The operator's `fraud.threshold` webhook: this many conversions of one affiliate rejected
    # for fraud on the campaign in one clock hour.
    "alert_fraud_rejections_per_hour": (1, 1),
}
_KEYS = frozenset({"actions", *THRESHOLDS})
_SIGNALS = frozenset({*CLICK_SIGNALS, *CONVERSION_SIGNALS})


class FraudPolicyError(ValueError):
    """The policy is unusable; `problems` maps each bad key (dotted, `actions.bot`) to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems.items()))


def _threshold(raw: Any, minimum: int) -> int:
    text = "" if isinstance(raw, bool) or not isinstance(raw, int | str) else str(raw).strip()
    if not text.isdigit():
        raise ValueError("must be a whole number")
    value = int(text)
    if not minimum <= value <= POSITIVE_INT_MAX:
        raise ValueError(f"must be between {minimum} and {POSITIVE_INT_MAX}")
    return value


def fraud_policy_clean(raw: Any) -> dict[str, Any]:
    """The normalized policy of `raw` (see the module docstring); raises FraudPolicyError
    naming every bad key. None or {} is the empty policy; so is a policy whose actions are all
    `allow`, whatever its thresholds (they would count nothing)."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, Mapping):
        raise FraudPolicyError({"fraud_policy": "must be an object"})
    if "actions" not in raw and any(key in _SIGNALS for key in raw):
        # The shorthand `{"bot": "block", "too_fast": "reject"}`: signals at the top level.
        raw = {
            "actions": {key: value for key, value in raw.items() if key in _SIGNALS},
            **{key: value for key, value in raw.items() if key not in _SIGNALS},
        }
    problems: dict[str, str] = {}
    for key in raw:
        if key not in _KEYS:
            problems[str(key)] = f"unknown key; use {', '.join(sorted(_KEYS))}"
    actions_raw = raw.get("actions", {})
    actions: dict[str, str] = {}
    if not isinstance(actions_raw, Mapping):
        problems["actions"] = "must be an object of signal -> action"
        actions_raw = {}
    for signal, action in actions_raw.items():
        if signal in CLICK_SIGNALS:
            allowed = CLICK_ACTIONS
        elif signal in CONVERSION_SIGNALS:
            allowed = CONVERSION_ACTIONS
        else:
            problems[f"actions.{signal}"] = (
                f"unknown signal; use {', '.join([*CLICK_SIGNALS, *CONVERSION_SIGNALS])}"
            )
            continue
        if action not in allowed:
            side = "click" if signal in CLICK_SIGNALS else "conversion"
            problems[f"actions.{signal}"] = (
                f"{action!r} is not an action for a {side} signal; choose {', '.join(allowed)}"
            )
            continue
        if action != FraudAction.ALLOW:
            actions[str(signal)] = str(action)
    policy: dict[str, Any] = {"actions": dict(sorted(actions.items()))}
    for key, (default, minimum) in THRESHOLDS.items():
        try:
            policy[key] = _threshold(raw[key], minimum) if key in raw else default
        except ValueError as exc:
            problems[key] = str(exc)
    if problems:
        raise FraudPolicyError(problems)
    return policy if actions else {}


def fraud_policy_actions(policy: Mapping[str, Any]) -> dict[str, str]:
    """signal -> action of a stored policy (normalized, or the shorthand with the signals at
    the top level, as a row written without the services may hold)."""
    if not policy:
        return {}
    actions = policy.get("actions")
    if isinstance(actions, Mapping):
        return dict(actions)
    return {key: value for key, value in policy.items() if key in _SIGNALS}


def fraud_policy_threshold(policy: Mapping[str, Any], key: str) -> int:
    """A threshold of a stored policy, else its default."""
    value = policy.get(key) if policy else None
    return value if isinstance(value, int) and not isinstance(value, bool) else THRESHOLDS[key][0]
