"""Fraud signals of clicks and conversions, and what the campaign's policy does with them.

A campaign's `fraud_policy` (`campaigns.fraud_policy`) names the signals it cares about and the
action for each; a signal it does not name is not evaluated at all, so a campaign with an empty
policy pays for none of this.

Clicks (`click_fraud_check`, called by `tracker.services.clicks` once the link is read):
`bot` (the parsed device type is `bot`, or the user agent is empty or names a crawler),
`deny_list` and `datacenter` (the click's IP in the operator's lists; the click path reads both
answers with the link, in the same statement), `click_velocity` (more clicks from one IP on one
link in the current minute than the policy allows: counted in Redis when the default cache is
Redis, else in this process's memory — an approximation, each process sees only the clicks it
served). Actions: `flag` records the signal in `Click.fraud_signals`; `block` records it too and
sends the click to the fallback with `blocked_reason` `fraud`.

Conversions (`conversion_fraud_decide`, called by `conversion_record` for a new conversion):
`too_fast` (sooner after the click than `min_seconds_to_convert`), `ip_mismatch` (the
postback's `ip` is not the click's), `conversion_velocity` (more conversions from the
conversion's IP on the campaign in 24 hours than allowed: a database count, on the
conversions' campaign-and-time index). Actions: `flag` records the signal in
`Conversion.fraud_signals`; `hold` forces the status to `pending` (reason `fraud_hold:<signal>`)
until an admin or the advertiser decides; `reject` rejects it with the reason `fraud:<signal>`.
"""

import datetime as dt
import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

from campaigns.fraud_policy import (
    CLICK_SIGNALS,
    CONVERSION_SIGNALS,
    FraudAction,
    FraudSignal,
    fraud_policy_actions,
    fraud_policy_threshold,
)
from campaigns.models import Campaign
from tracker.ip_lists import ip_is_listed, ip_key
from tracker.models import Click, Conversion, ConversionStatus, DeviceType, IpListKind

logger = logging.getLogger(__name__)

REJECT_REASON_PREFIX = "fraud:"
HOLD_REASON_PREFIX = "fraud_hold:"
# Until the user agent is parsed into a device type, what obviously announces a robot.
_BOT_AGENT = re.compile(
    r"bot\b|crawl|spider|slurp|headless|curl/|wget/|python-requests|python-urllib|go-http-client"
    r"|java/|libwww|httpclient|okhttp|scrapy|phantomjs",
    re.IGNORECASE,
)
_VELOCITY_TTL_SECONDS = 120  # the minute counted, and a minute of clock skew between processes


# --- click velocity counters -------------------------------------------------------------------


class VelocityCounter(Protocol):
    def incr(self, key: str, *, bucket: int) -> int:
        """Add one to `key` in time bucket `bucket` (the minute); the count after it."""


class LocalVelocityCounter:
    """Counts in this process's memory: the embedded default's approximation. With several web
    processes each counts only the clicks it served, so a burst spread over N processes needs
    up to N times the threshold to be seen. Keeps the current and previous minute only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[int, dict[str, int]] = {}

    def incr(self, key: str, *, bucket: int) -> int:
        with self._lock:
            counts = self._buckets.get(bucket)
            if counts is None:
                for old in [b for b in self._buckets if b < bucket - 1]:
                    del self._buckets[old]
                counts = self._buckets[bucket] = {}
            counts[key] = counts.get(key, 0) + 1
            return counts[key]


class RedisVelocityCounter:
    """INCR and EXPIRE in one pipelined round trip to the default cache's Redis, shared by
    every process: exact."""

    def __init__(self, client_for: Callable[[str], Any]) -> None:
        self._client_for = client_for

    def incr(self, key: str, *, bucket: int) -> int:
        name = cache.make_key(f"fraud:cv:{bucket}:{key}")
        pipe = self._client_for(name).pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, _VELOCITY_TTL_SECONDS)
        count, _ = pipe.execute()
        return int(count)


def _redis_client_for() -> Callable[[str], Any] | None:
    default = caches["default"]
    backend = getattr(default, "_cache", None)
    if not isinstance(default, RedisCache) or backend is None:
        return None
    return lambda key: backend.get_client(key, write=True)


@functools.cache
def velocity_counter() -> VelocityCounter:
    """The counter FRAUD_VELOCITY_COUNTER chooses, once per process (see the settings)."""
    choice = settings.FRAUD_VELOCITY_COUNTER
    if choice not in ("auto", "redis", "local"):
        raise ImproperlyConfigured("FRAUD_VELOCITY_COUNTER is auto, redis or local.")
    client_for = None if choice == "local" else _redis_client_for()
    if client_for is not None:
        return RedisVelocityCounter(client_for)
    if choice == "redis":
        raise ImproperlyConfigured(
            "FRAUD_VELOCITY_COUNTER=redis needs a Redis default cache (CACHE_URL=redis://...)."
        )
    return LocalVelocityCounter()


# --- clicks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickVerdict:
    """The click's signals whose action is not `allow` (in `CLICK_SIGNALS` order), and whether
    one of them blocks it."""

    signals: list[str]
    blocked: bool


CLEAN_CLICK = ClickVerdict(signals=[], blocked=False)


def is_bot_agent(*, user_agent: str, device_type: str) -> bool:
    """The `bot` signal: a parsed device type of `bot`, an empty user agent, or (not parsed)
    an agent that names a crawler or an HTTP library."""
    if device_type == DeviceType.BOT or not user_agent.strip():
        return True
    return not device_type and _BOT_AGENT.search(user_agent) is not None


def _click_signal(
    signal: str,
    *,
    policy: Mapping[str, Any],
    link_id: int,
    ip: str | None,
    user_agent: str,
    device_type: str,
    listed: Mapping[str, bool | None],
    now: dt.datetime,
) -> bool:
    if signal == FraudSignal.BOT:
        return is_bot_agent(user_agent=user_agent, device_type=device_type)
    if signal in (FraudSignal.DENY_LIST, FraudSignal.DATACENTER):
        kind = IpListKind.DENY if signal == FraudSignal.DENY_LIST else IpListKind.DATACENTER
        known = listed.get(kind)
        return bool(known) if known is not None else ip_is_listed(kind=kind, ip=ip)
    if signal == FraudSignal.CLICK_VELOCITY:
        key = ip_key(ip)
        if key is None:
            return False
        limit = fraud_policy_threshold(policy, "click_velocity_per_minute")
        try:
            count = velocity_counter().incr(
                f"{link_id}:{key.hex()}", bucket=int(now.timestamp()) // 60
            )
        except Exception:
            # A counter that is down must not cost the click: the signal is just not seen.
            logger.warning("click velocity not counted: the counter failed", exc_info=True)
            return False
        return count > limit
    return False


def click_fraud_check(
    *,
    policy: Mapping[str, Any],
    link_id: int,
    ip: str | None,
    user_agent: str,
    device_type: str,
    deny_listed: bool | None,
    datacenter_listed: bool | None,
    now: dt.datetime,
) -> ClickVerdict:
    """Evaluate the click signals `policy` names. `deny_listed` / `datacenter_listed` are the
    answers the link read already has (None: not read, look them up here)."""
    actions = fraud_policy_actions(policy)
    if not actions:
        return CLEAN_CLICK
    listed: dict[str, bool | None] = {
        IpListKind.DENY: deny_listed,
        IpListKind.DATACENTER: datacenter_listed,
    }
    signals: list[str] = []
    blocked = False
    for signal in CLICK_SIGNALS:
        action = actions.get(signal)
        if action is None:
            continue
        if _click_signal(
            signal,
            policy=policy,
            link_id=link_id,
            ip=ip,
            user_agent=user_agent,
            device_type=device_type,
            listed=listed,
            now=now,
        ):
            signals.append(signal)
            blocked = blocked or action == FraudAction.BLOCK
    return ClickVerdict(signals=signals, blocked=blocked) if signals else CLEAN_CLICK


def click_fraud_trace(click: Click) -> list[dict[str, Any]]:
    """Each click signal with its inputs, the action the campaign's policy takes today and
    whether the signal was recorded on the click (`recorded`). `detected` is what the inputs
    say now: the IP lists as loaded today; None for velocity, whose minute is gone."""
    campaign = click.campaign
    actions = fraud_policy_actions(campaign.fraud_policy)
    recorded = set(click.fraud_signals or [])
    checks: list[dict[str, Any]] = []
    for signal in (
        FraudSignal.BOT,
        FraudSignal.DENY_LIST,
        FraudSignal.DATACENTER,
        FraudSignal.CLICK_VELOCITY,
    ):
        inputs: dict[str, Any]
        detected: bool | None
        if signal == FraudSignal.BOT:
            inputs = {"user_agent": click.user_agent, "device_type": click.device_type}
            detected = is_bot_agent(user_agent=click.user_agent, device_type=click.device_type)
        elif signal == FraudSignal.CLICK_VELOCITY:
            limit = fraud_policy_threshold(campaign.fraud_policy, "click_velocity_per_minute")
            inputs = {"ip": click.ip, "per_minute_limit": limit}
            detected = None
        else:
            kind = IpListKind.DENY if signal == FraudSignal.DENY_LIST else IpListKind.DATACENTER
            inputs = {"ip": click.ip, "list": str(kind)}
            detected = ip_is_listed(kind=kind, ip=click.ip)
        checks.append(
            {
                "signal": str(signal),
                "action": str(actions.get(signal, FraudAction.ALLOW)),
                "detected": detected,
                "recorded": signal in recorded,
                "inputs": inputs,
            }
        )
    return checks


# --- conversions -------------------------------------------------------------------------------


@dataclass
class ConversionVerdict:
    """The conversion's signals whose action is not `allow`, and the status and reason the
    policy imposes (empty: none)."""

    signals: list[str] = field(default_factory=list)
    status: str = ""
    reason: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)


def _same_ip(first: str, second: str) -> bool:
    first_key, second_key = ip_key(first), ip_key(second)
    if first_key is not None and second_key is not None:
        return first_key == second_key
    return first.strip() == second.strip()


def _conversion_checks(
    *,
    campaign: Campaign,
    click: Click,
    postback_ip: str,
    conversion_ip: str,
    at: dt.datetime,
    only: Mapping[str, str] | None,
    exclude_conversion_id: int | None = None,
) -> list[dict[str, Any]]:
    """Each conversion signal (`only`: those named, else all three) with its inputs."""
    actions = fraud_policy_actions(campaign.fraud_policy)
    checks = []
    for signal in CONVERSION_SIGNALS:
        if only is not None and signal not in only:
            continue
        inputs: dict[str, Any]
        if signal == FraudSignal.TOO_FAST:
            seconds = (at - click.created_at).total_seconds()
            minimum = campaign.min_seconds_to_convert
            inputs = {"seconds_after_click": int(seconds), "min_seconds_to_convert": minimum}
            detected = seconds < minimum
        elif signal == FraudSignal.IP_MISMATCH:
            inputs = {"postback_ip": postback_ip, "click_ip": click.ip}
            detected = bool(postback_ip and click.ip) and not _same_ip(postback_ip, click.ip or "")
        else:
            limit = fraud_policy_threshold(campaign.fraud_policy, "conversion_velocity_per_day")
            earlier = 0
            if conversion_ip:
                same_ip = Conversion.objects.filter(
                    campaign_id=campaign.pk,
                    created_at__gt=at - dt.timedelta(days=1),
                    created_at__lte=at,
                    ip=conversion_ip,
                )
                if exclude_conversion_id is not None:
                    same_ip = same_ip.exclude(pk=exclude_conversion_id)
                earlier = same_ip.count()
            inputs = {"ip": conversion_ip, "earlier_in_24h": earlier, "per_day_limit": limit}
            detected = bool(conversion_ip) and earlier + 1 > limit
        checks.append(
            {
                "signal": str(signal),
                "action": str(actions.get(signal, FraudAction.ALLOW)),
                "detected": detected,
                "inputs": inputs,
            }
        )
    return checks


def conversion_fraud_decide(
    *, campaign: Campaign, click: Click, postback_ip: str, conversion_ip: str, now: dt.datetime
) -> ConversionVerdict:
    """Evaluate the conversion signals the campaign's policy names for a new conversion.

    The first signal (in `CONVERSION_SIGNALS` order) whose action is `reject` decides the reason
    `fraud:<signal>`; else the first `hold` forces `pending` with `fraud_hold:<signal>`.
    """
    actions = fraud_policy_actions(campaign.fraud_policy)
    named = {signal: action for signal, action in actions.items() if signal in CONVERSION_SIGNALS}
    if not named:
        return ConversionVerdict()
    checks = _conversion_checks(
        campaign=campaign,
        click=click,
        postback_ip=postback_ip,
        conversion_ip=conversion_ip,
        at=now,
        only=named,
    )
    verdict = ConversionVerdict(checks=checks)
    detected = [check for check in checks if check["detected"]]
    verdict.signals = [check["signal"] for check in detected]
    for action, status, prefix in (
        (FraudAction.REJECT, ConversionStatus.REJECTED, REJECT_REASON_PREFIX),
        (FraudAction.HOLD, ConversionStatus.PENDING, HOLD_REASON_PREFIX),
    ):
        first = next((check for check in detected if check["action"] == action), None)
        if first is not None:
            verdict.status, verdict.reason = status, f"{prefix}{first['signal']}"
            break
    return verdict


def conversion_fraud_trace(conversion: Conversion) -> list[dict[str, Any]]:
    """Each conversion signal with its inputs as of the conversion's creation, whether they make
    the signal (`detected`), the action the campaign's policy takes today, and whether the signal
    was recorded on the conversion (`recorded`: its policy then named it)."""
    checks = _conversion_checks(
        campaign=conversion.campaign,
        click=conversion.click,
        postback_ip=conversion.ip if conversion.ip != (conversion.click.ip or "") else "",
        conversion_ip=conversion.ip,
        at=conversion.created_at,
        only=None,
        exclude_conversion_id=conversion.pk,
    )
    recorded = set(conversion.fraud_signals or [])
    for check in checks:
        check["recorded"] = check["signal"] in recorded
    return checks


def is_fraud_hold(conversion: Conversion) -> bool:
    """A pending conversion held by the fraud policy: only an admin or the advertiser may
    decide it (partners' approvals and auto-approval leave it pending)."""
    return conversion.status == ConversionStatus.PENDING and conversion.reason.startswith(
        HOLD_REASON_PREFIX
    )
