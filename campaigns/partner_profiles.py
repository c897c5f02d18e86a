"""Partner-key profiles: reading a postback in the parameter names of the partner's platform.

An advertiser that integrates through a tracking platform (TUNE/HasOffers, Everflow, CAKE, Affise,
Keitaro, Voluum) fires the postback its platform emits: TUNE sends the click in `transaction_id`
and the order in `adv_sub`, Keitaro sends `subid` and `status=sale`, Affise `clickid` and
`status=1`. A partner key's `profile` names that platform; `profile_apply` turns the received
parameters into ours before they are validated (`tracker.postback_params`). Pure functions, no
database: the profile comes with the partner key row the postback already read.

Rules (docs/partners.md, "Postback profiles"):

- Our own parameter names keep working with every profile: a rename applies only when none of
  the names we accept for its target was sent (a name the profile itself renames away does not
  count: TUNE's `transaction_id` is its click id, so TUNE's `adv_sub` still becomes our
  `transaction_id`). When several of the partner's names map to one of ours, the first sent wins.
- A status the profile maps (`sale`, `1`, compared without case) becomes ours; the raw value is
  returned as `partner_status` and kept on the conversion's history row. Any other value goes
  through unchanged (ours pass; anything else is refused as `invalid_status`).
- A value still holding a placeholder of the platform (`{aff_sub}`, `#s2#`, Voluum's `REPLACE`)
  in a parameter we read is refused with `unreplaced_macro`, naming the parameter as sent.
- `custom`: the key's own `param_map` (their name -> our name) and `status_map` (their value ->
  our status), at most 50 entries each; two of their names for one of ours: the first sent in
  alphabetical order wins. `clickledger`: our names only, nothing renamed.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from core.exceptions import ApplicationError


class PartnerProfile(models.TextChoices):
    CLICKLEDGER = "clickledger", "ClickLedger (our parameter names)"
    TUNE = "tune", "TUNE / HasOffers"
    EVERFLOW = "everflow", "Everflow"
    CAKE = "cake", "CAKE"
    AFFISE = "affise", "Affise"
    KEITARO = "keitaro", "Keitaro"
    VOLUUM = "voluum", "Voluum"
    CUSTOM = "custom", "Custom mapping"


# Our canonical parameter names, each with the names we accept for it: the postback parser's
# table (tracker.postback_params.PARAM_ALIASES is this one), kept here because campaigns cannot
# import tracker.
CANONICAL_PARAMS: dict[str, tuple[str, ...]] = {
    "click_id": ("click_id",),
    "status": ("status",),
    "payout": ("payout", "revenue"),
    "currency": ("currency",),
    "offer_id": ("offer_id",),
    "survey_id": ("survey_id",),
    "campaign_id": ("campaign_id",),
    "transaction_id": ("transaction_id",),
    "conversion_id": ("conversion_id",),
    "user_id": ("user_id",),
    "affiliate_id": ("affiliate_id",),
    "sub1": ("sub_id1", "sub_id", "sub1"),
    "sub2": ("sub_id2", "sub2"),
    "sub3": ("sub_id3", "sub3"),
    "sub4": ("sub_id4", "sub4"),
    "sub5": ("sub_id5", "sub5"),
    "country": ("country",),
    "device_id": ("device_id",),
    "ip": ("ip",),
    "user_agent": ("user_agent",),
    "reason": ("reason",),
    "event": ("event", "goal", "event_code"),
}
# Our statuses (tracker.models.ConversionStatus and `test`; a test keeps them equal).
OUR_STATUSES = ("pending", "approved", "rejected", "reversed", "test")
MAP_MAX_ENTRIES = 50
MAP_NAME_MAX_LENGTH = 64

# {name}, {{name}}, ${name}, {_name} (Keitaro's raw form), and the same percent-encoded.
_BRACES = r"\$?\{\{?\s*[A-Za-z_][\w.:\-]*\s*\}\}?|\$?%7B(?:%7B)?[A-Za-z_][\w.:\-]*(?:%7D)?%7D"
_HASHES = r"#[A-Za-z_][\w]*#|%23[A-Za-z_][\w]*%23"  # CAKE: #s2#, #reqid#, #price#


@dataclass(frozen=True)
class ProfilePreset:
    """A platform's postback: its parameter names mapped to ours, its status values mapped to
    ours, and what an unreplaced placeholder of the platform looks like."""

    params: tuple[tuple[str, str], ...] = ()
    statuses: Mapping[str, str] = field(default_factory=dict)
    placeholder: re.Pattern[str] = re.compile(_BRACES, re.IGNORECASE)
    placeholder_example: str = "{click_id}"


def _subs(prefix: str, *, first: int = 1) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{n}", f"sub{n - first + 1}") for n in range(first, first + 5))


PRESETS: dict[str, ProfilePreset] = {
    PartnerProfile.CLICKLEDGER: ProfilePreset(),
    # TUNE advertiser postback: the click is TUNE's `transaction_id`, the order `adv_sub`.
    PartnerProfile.TUNE: ProfilePreset(
        params=(
            ("transaction_id", "click_id"),
            ("adv_sub", "transaction_id"),
            ("adv_sub2", "sub2"),
            ("adv_sub3", "sub3"),
            ("adv_sub4", "sub4"),
            ("adv_sub5", "sub5"),
            ("amount", "payout"),
            ("goal_id", "event"),
            ("goal_ref", "event"),
            ("aff_id", "affiliate_id"),
            ("conversion_unique_id", "conversion_id"),
        ),
        placeholder_example="{aff_sub}",
    ),
    # Everflow advertiser postback: `transaction_id` is Everflow's click id.
    PartnerProfile.EVERFLOW: ProfilePreset(
        params=(
            ("transaction_id", "click_id"),
            ("order_id", "transaction_id"),
            ("amount", "payout"),
            ("adv_event_id", "event"),
            ("event_id", "event"),
            *_subs("adv"),
        ),
        placeholder_example="{transaction_id}",
    ),
    # CAKE server postback (p.ashx): r = request session id, t = transaction, p = price,
    # e = event, o = offer. CAKE's own tokens look like #s2#.
    PartnerProfile.CAKE: ProfilePreset(
        params=(
            ("r", "click_id"),
            ("reqid", "click_id"),
            ("t", "transaction_id"),
            ("p", "payout"),
            ("price", "payout"),
            ("e", "event"),
            ("o", "offer_id"),
            *_subs("s", first=1),
        ),
        placeholder=re.compile(f"{_HASHES}|{_BRACES}", re.IGNORECASE),
        placeholder_example="#s2#",
    ),
    # Affise advertiser postback; statuses 1 approved, 2 pending, 3 declined, 5 hold.
    PartnerProfile.AFFISE: ProfilePreset(
        params=(
            ("clickid", "click_id"),
            ("action_id", "transaction_id"),
            ("sum", "payout"),
            ("comment", "reason"),
        ),
        statuses={"1": "approved", "2": "pending", "3": "rejected", "5": "pending"},
        placeholder_example="{clickid}",
    ),
    # Keitaro incoming postback: subid, tid, status lead / sale / rejected / rebill / trash.
    PartnerProfile.KEITARO: ProfilePreset(
        params=(
            ("subid", "click_id"),
            ("tid", "transaction_id"),
            *_subs("sub_id_"),
        ),
        statuses={
            "lead": "pending",
            "sale": "approved",
            "rejected": "rejected",
            "rebill": "approved",
            "trash": "rejected",
        },
        placeholder_example="{subid}",
    ),
    # Voluum postback: cid, payout, txid, et (event type), param1..param5; its template ships
    # with the literal REPLACE and OPTIONAL where the network's tokens go.
    PartnerProfile.VOLUUM: ProfilePreset(
        params=(
            ("cid", "click_id"),
            ("txid", "transaction_id"),
            ("et", "event"),
            *_subs("param"),
        ),
        placeholder=re.compile(f"{_BRACES}|^(?:REPLACE|OPTIONAL)$"),
        placeholder_example="{clickid}",
    ),
    PartnerProfile.CUSTOM: ProfilePreset(),
}

_ACCEPTED_NAMES = {name for names in CANONICAL_PARAMS.values() for name in names}


@dataclass(frozen=True)
class ProfileReading:
    """The parameters in our names, and the partner's raw status when the profile mapped it."""

    params: dict[str, Any]
    partner_status: str = ""
    renamed: dict[str, str] = field(default_factory=dict)  # their name -> our name, as applied


def profile_renames(
    *, profile: str, param_map: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    if profile == PartnerProfile.CUSTOM:
        # Sorted: the stored JSON keeps no order, and precedence must not depend on it.
        return tuple(sorted((param_map or {}).items()))
    return PRESETS[profile].params if profile in PRESETS else ()


def profile_statuses(*, profile: str, status_map: Mapping[str, str] | None = None) -> dict:
    if profile == PartnerProfile.CUSTOM:
        return {str(k).lower(): v for k, v in (status_map or {}).items()}
    return dict(PRESETS[profile].statuses) if profile in PRESETS else {}


def _given(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _firing(renames: tuple[tuple[str, str], ...], params: Mapping[str, Any]) -> dict[str, str]:
    """Which of the partner's names are renamed: sent, and their target not sent in our names
    (ignoring names that are themselves renamed away). The first sent source per target wins."""
    sources = {theirs for theirs, _ in renames}
    firing = {theirs: ours for theirs, ours in renames if _given(params, theirs)}
    changed = True
    while changed:
        changed = False
        for theirs, ours in list(firing.items()):
            blockers = [
                name
                for name in CANONICAL_PARAMS.get(ours, (ours,))
                if name != theirs
                and _given(params, name)
                and not (name in sources and name in firing)
            ]
            if blockers:
                del firing[theirs]
                changed = True
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for theirs, ours in renames:
        if theirs in firing and ours not in taken:
            chosen[theirs] = ours
            taken.add(ours)
    return chosen


def _placeholder_check(preset: ProfilePreset, params: Mapping[str, Any], names: list[str]) -> None:
    found = [
        name
        for name in names
        if isinstance(params.get(name), str) and preset.placeholder.search(params[name].strip())
    ]
    if found:
        raise ApplicationError(
            f"Unreplaced macro in {', '.join(found)}: send the actual value, not the placeholder.",
            code="unreplaced_macro",
            fields={name: [f"Still a macro: {params.get(name)}"] for name in found},
        )


def profile_apply(
    *,
    profile: str,
    param_map: Mapping[str, str] | None,
    status_map: Mapping[str, str] | None,
    params: Mapping[str, Any],
) -> ProfileReading:
    """The postback's parameters read with `profile` (module docstring). Raises 400
    `unreplaced_macro` for a placeholder of the platform left in a parameter we read."""
    if profile == PartnerProfile.CLICKLEDGER or profile not in PRESETS:
        return ProfileReading(params=dict(params))
    preset = PRESETS[profile]
    renames = profile_renames(profile=profile, param_map=param_map)
    chosen = _firing(renames, params)
    _placeholder_check(
        preset, params, [name for name in params if name in chosen or name in _ACCEPTED_NAMES]
    )
    result = {name: value for name, value in params.items() if name not in chosen}
    for theirs, ours in chosen.items():
        result[ours] = params[theirs]
    partner_status = ""
    statuses = profile_statuses(profile=profile, status_map=status_map)
    raw = result.get("status")
    if statuses and isinstance(raw, str | int) and not isinstance(raw, bool):
        mapped = statuses.get(str(raw).strip().lower())
        if mapped is not None:
            partner_status = str(raw).strip()[:64]
            result["status"] = mapped
    return ProfileReading(params=result, partner_status=partner_status, renamed=chosen)


# --- validation of a key's custom maps ---------------------------------------------------------


def _map_error(code: str, name: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields={name: [message]})


def profile_maps_clean(
    *, profile: str, param_map: Any, status_map: Any
) -> tuple[str, dict[str, str], dict[str, str]]:
    """The profile and its maps, checked: `invalid_profile`, `invalid_param_map`,
    `invalid_status_map`. Maps are only for `custom`; at most 50 entries, names and values are
    non-empty strings; targets are our parameter names / our statuses."""
    if profile not in PartnerProfile.values:
        raise _map_error(
            "invalid_profile",
            "profile",
            f"Unknown profile {profile!r}: choose one of {', '.join(PartnerProfile.values)}.",
        )
    cleaned: list[dict[str, str]] = []
    for name, value, targets in (
        ("param_map", param_map, tuple(CANONICAL_PARAMS)),
        ("status_map", status_map, OUR_STATUSES),
    ):
        code = f"invalid_{name}"
        value = value or {}
        if not isinstance(value, Mapping):
            raise _map_error(code, name, "Must be an object of their name -> ours.")
        if value and profile != PartnerProfile.CUSTOM:
            raise _map_error(code, name, "Only the custom profile takes its own map.")
        if len(value) > MAP_MAX_ENTRIES:
            raise _map_error(code, name, f"At most {MAP_MAX_ENTRIES} entries.")
        entries: dict[str, str] = {}
        for theirs, ours in value.items():
            if not isinstance(theirs, str) or not isinstance(ours, str):
                raise _map_error(code, name, "Names and values must be strings.")
            theirs, ours = theirs.strip(), ours.strip().lower()
            if name == "status_map":
                theirs = theirs.lower()
            # isprintable: no NUL, control character or lone surrogate reaches the JSON column.
            if not theirs or len(theirs) > MAP_NAME_MAX_LENGTH or not theirs.isprintable():
                raise _map_error(
                    code,
                    name,
                    f"Each name must have 1 to {MAP_NAME_MAX_LENGTH} printable characters.",
                )
            if ours not in targets:
                raise _map_error(
                    code, name, f"{theirs!r} -> {ours!r}: choose one of {', '.join(targets)}."
                )
            entries[theirs] = ours
        cleaned.append(entries)
    return profile, cleaned[0], cleaned[1]
