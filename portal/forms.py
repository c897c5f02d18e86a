"""Portal forms: they validate the shape of input only. Domain rules live in the services, whose
ApplicationError field messages are put back on the form next to the field they name."""

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any, TypedDict

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import ApiKeyScope, PayoutMethod, Role
from accounts.two_factor import otp_login_check
from campaigns.fraud_policy import (
    CLICK_ACTIONS,
    CLICK_SIGNALS,
    CONVERSION_ACTIONS,
    CONVERSION_SIGNALS,
    THRESHOLDS,
    FraudAction,
    fraud_policy_actions,
    fraud_policy_threshold,
)
from campaigns.models import (
    EVENT_CODE_MAX_LENGTH,
    AccessStatus,
    CampaignStatus,
    CapAction,
    CapMetric,
    CapPeriod,
    CapScope,
    EventInitialStatus,
    PayoutType,
    Visibility,
)
from campaigns.partner_profiles import PartnerProfile
from campaigns.pricing_rules import IMPORT_MAX_BYTES
from campaigns.targeting import COMMON_BROWSERS, COMMON_OSES, DAY_NAMES, DEVICE_TYPES
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.forms import form_field
from core.money import money_text, parse_money
from forwarding.models import DeliveryStatus, EndpointMethod, ForwardEvent
from payouts.payout_methods import DETAIL_FIELDS, NETWORKS
from portal.selectors import BREAKDOWNS, DEFAULT_PERIOD_DAYS, PERIOD_CHOICES
from reporting.services.fraud import FraudReportQuery
from tracker.models import ConversionStatus

CAP_ROWS = 4
_ANY = [("", "Any")]
_CURRENCIES = [(code, code) for code in sorted(CURRENCY_CODES)]


def service_errors_apply(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on `form`: each named field under that field, the rest on top."""
    placed = False
    for name, messages in error.fields.items():
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(name if name in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)


# --- accounts ----------------------------------------------------------------------------------


class LoginForm(AuthenticationForm):
    """Emails are stored lower-case; people type them any way."""

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class ConsoleLoginForm(AdminAuthenticationForm):
    """The console's login: the password, and the two-factor code when the account has it on.

    Whoever must set two-factor authentication up and has not yet logs in with the password
    alone and is sent to the set-up page first (portal.middleware)."""

    otp = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=64,
        help_text="From your authenticator app, or a recovery code; only if two-factor "
        "authentication is on for your account.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        user = self.get_user()
        if user is not None:
            try:
                device = otp_login_check(user=user, token=cleaned_data.get("otp") or "")
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
            # django-otp marks the session verified at login when the user carries its device.
            user.otp_device = device  # type: ignore[attr-defined]
        return cleaned_data


class OtpForm(forms.Form):
    """A two-factor code: 6 digits from the authenticator app, or a recovery code."""

    otp = forms.CharField(
        label="Code",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class SignupForm(forms.Form):
    role = forms.ChoiceField(
        label="I am",
        choices=[
            (Role.AFFILIATE, "An affiliate (I send traffic)"),
            (Role.ADVERTISER, "An advertiser (I run campaigns)"),
        ],
        widget=forms.RadioSelect,
        initial=Role.AFFILIATE,
    )
    name = forms.CharField(label="Your name", max_length=150)
    company = forms.CharField(label="Company", max_length=200, required=False)
    email = forms.EmailField(label="Email")
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (
            cleaned.get("password")
            and cleaned.get("password_again")
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


# --- filters -----------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(days, f"Last {days} days") for days in PERIOD_CHOICES],
        coerce=int,
        required=False,
        initial=DEFAULT_PERIOD_DAYS,
    )

    def period_days(self) -> int:
        if self.is_valid() and self.cleaned_data["days"]:
            return self.cleaned_data["days"]
        return DEFAULT_PERIOD_DAYS


class BreakdownForm(forms.Form):
    """The dashboards' traffic breakdown: which dimension (default the device type)."""

    breakdown = forms.ChoiceField(label="Break down by", choices=BREAKDOWNS, required=False)

    def dimension(self) -> str:
        if self.is_valid() and self.cleaned_data["breakdown"]:
            return self.cleaned_data["breakdown"]
        return BREAKDOWNS[0][0]

    def dimension_label(self) -> str:
        return dict(BREAKDOWNS)[self.dimension()].lower()


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


REPORT_PRESETS = (
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("month", "This month"),
    ("custom", "Custom dates"),
)


class ReportForm(forms.Form):
    """The portal report: a preset or custom period (whole UTC days) and one breakdown.
    `groups`: the (value, label) breakdowns the viewer may use."""

    preset = forms.ChoiceField(label="Period", choices=REPORT_PRESETS, required=False)
    date_from = _date_field("From")
    date_to = _date_field("To")
    group_by = forms.ChoiceField(label="Break down by", required=False)

    def __init__(self, *args: Any, groups: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "group_by", forms.ChoiceField).choices = list(groups)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("preset") == "custom":
            if not data.get("date_from"):
                self.add_error("date_from", "Give the first day.")
            if not data.get("date_to"):
                self.add_error("date_to", "Give the last day.")
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end is before the start.")
        return data

    def period(self, *, today: dt.date) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data if self.is_valid() else {}
        preset = data.get("preset") or "30"
        if preset == "custom":
            return data["date_from"], data["date_to"]
        if preset == "month":
            return today.replace(day=1), today
        return today - dt.timedelta(days=int(preset) - 1), today

    def group(self) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("group_by") or "day"


FRAUD_GROUPINGS = (
    ("affiliate,campaign,signal", "Affiliate, campaign and signal"),
    ("signal", "Signal"),
    ("campaign,signal", "Campaign and signal"),
    ("affiliate,signal", "Affiliate and signal"),
    ("day,signal", "Day and signal"),
)


class FraudReportForm(forms.Form):
    """The fraud report's period (whole UTC days, default the last 30) and grouping."""

    date_from = _date_field("From")
    date_to = _date_field("To")
    group_by = forms.ChoiceField(
        label="Group by", choices=FRAUD_GROUPINGS, required=False, initial=FRAUD_GROUPINGS[0][0]
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end is before the start.")
        return data

    def report_query(self) -> FraudReportQuery:
        data = self.cleaned_data if self.is_valid() else {}
        group_by = data.get("group_by") or FRAUD_GROUPINGS[0][0]
        return FraudReportQuery(
            group_by=tuple(group_by.split(",")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class ConversionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=_ANY + ConversionStatus.choices, required=False
    )
    campaign = forms.TypedChoiceField(
        label="Campaign", coerce=int, required=False, empty_value=None
    )
    date_from = _date_field("From")
    date_to = _date_field("To")
    q = forms.CharField(label="Click, transaction, user or sub1", required=False, max_length=255)

    def __init__(self, *args, campaigns=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `campaigns`: (id, name) pairs of the campaigns the viewer may see.
        form_field(self, "campaign", forms.ChoiceField).choices = _ANY + list(campaigns)


class CampaignFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=_ANY + CampaignStatus.choices, required=False
    )
    q = forms.CharField(label="Name or offer id", required=False, max_length=200)


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=_ANY + AccessStatus.choices, required=False)


class BrowseFilterForm(forms.Form):
    access = forms.ChoiceField(
        label="My access",
        choices=[*_ANY, ("none", "Not applied"), *AccessStatus.choices],
        required=False,
    )
    q = forms.CharField(label="Name or offer id", required=False, max_length=200)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=_ANY + DeliveryStatus.choices, required=False
    )
    endpoint = forms.TypedChoiceField(
        label="Endpoint", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, endpoints=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "endpoint", forms.ChoiceField).choices = _ANY + [
            (e.pk, e.name or f"#{e.pk} {e.url[:40]}") for e in endpoints
        ]


class SearchForm(forms.Form):
    q = forms.CharField(label="End user id", required=False, max_length=255)


# --- advertiser --------------------------------------------------------------------------------

_CAP_PARTS = ("period", "scope", "metric", "limit", "action")


def cap_fields_add(form: forms.Form, *, actions: list[tuple[str, str]]) -> None:
    """CAP_ROWS rows of cap fields `cap<row>_<part>` (a row without a period is no cap)."""
    for row in range(CAP_ROWS):
        number = row + 1
        form.fields[f"cap{row}_period"] = forms.ChoiceField(
            label=f"Cap {number} period",
            choices=[("", "No cap"), *CapPeriod.choices],
            required=False,
        )
        form.fields[f"cap{row}_scope"] = forms.ChoiceField(
            label=f"Cap {number} scope", choices=CapScope.choices, required=False
        )
        form.fields[f"cap{row}_metric"] = forms.ChoiceField(
            label=f"Cap {number} metric", choices=CapMetric.choices, required=False
        )
        form.fields[f"cap{row}_limit"] = forms.CharField(
            label=f"Cap {number} limit", required=False, max_length=30
        )
        form.fields[f"cap{row}_action"] = forms.ChoiceField(
            label=f"Cap {number} when reached", choices=actions, required=False
        )


def cap_rows(form: forms.Form) -> list[list[forms.BoundField]]:
    return [[form[f"cap{row}_{part}"] for part in _CAP_PARTS] for row in range(CAP_ROWS)]


def caps_initial(caps) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for row, cap in enumerate(list(caps)[:CAP_ROWS]):
        initial.update(
            {
                f"cap{row}_period": cap.period,
                f"cap{row}_scope": cap.scope,
                f"cap{row}_metric": cap.metric,
                f"cap{row}_limit": money_text(cap.limit),
                f"cap{row}_action": cap.action,
            }
        )
    return initial


def caps_data(form: forms.Form) -> list[dict[str, Any]]:
    """The filled cap rows as the services take them."""
    return [
        {part: form.cleaned_data[f"cap{row}_{part}"] for part in _CAP_PARTS}
        for row in range(CAP_ROWS)
        if form.cleaned_data[f"cap{row}_period"]
    ]


# --- targeting ---------------------------------------------------------------------------------

_MODES = [("include", "Only these"), ("exclude", "All but these")]
# (part, label, fixed choices or None for a comma-separated text field)
_TARGETING_LISTS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("countries", "Countries", None),
    ("device_types", "Device types", DEVICE_TYPES),
    ("os", "Operating systems", COMMON_OSES),
    ("browsers", "Browsers", COMMON_BROWSERS),
]


def targeting_fields_add(form: forms.Form) -> None:
    """The targeting editor's fields (`t_*`): per list an include/exclude choice and its values
    (checkboxes of the common names plus a text field for others), CIDR textareas, and a grid
    of days and hours. Nothing checked or typed is no rule."""
    for part, label, choices in _TARGETING_LISTS:
        form.fields[f"t_{part}_mode"] = forms.ChoiceField(
            label=f"{label}: which", choices=_MODES, initial="include", required=False
        )
        if choices is not None:
            form.fields[f"t_{part}"] = forms.MultipleChoiceField(
                label=label,
                choices=[(choice, choice) for choice in choices],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
        if part != "device_types":
            form.fields[f"t_{part}_other"] = forms.CharField(
                label=f"{label}, typed" if choices else label,
                required=False,
                max_length=2000,
                help_text="Comma separated."
                + (" 2-letter codes (US, CA)." if part == "countries" else ""),
            )
    for part, label in (("ip_allow", "Only these IPs"), ("ip_deny", "Never these IPs")):
        form.fields[f"t_{part}"] = forms.CharField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="One address or CIDR range per line, IPv4 or IPv6.",
        )
    form.fields["t_days"] = forms.MultipleChoiceField(
        label="Days",
        choices=[(str(day), name) for day, name in enumerate(DAY_NAMES)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None checked: every day.",
    )
    form.fields["t_hours"] = forms.MultipleChoiceField(
        label="Hours",
        choices=[(str(hour), f"{hour:02d}") for hour in range(24)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="In the campaign's time zone; 08 is 08:00 to 08:59. None checked: all day.",
    )


def targeting_initial(targeting: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for part, _label, choices in _TARGETING_LISTS:
        rule = targeting.get(part)
        if not rule:
            continue
        ((mode, values),) = rule.items()
        initial[f"t_{part}_mode"] = mode
        known = [value for value in values if choices and value in choices]
        initial[f"t_{part}"] = known
        if part != "device_types":
            initial[f"t_{part}_other"] = ", ".join(value for value in values if value not in known)
    for part in ("ip_allow", "ip_deny"):
        initial[f"t_{part}"] = "\n".join(targeting.get(part, []))
    schedule = targeting.get("schedule", {})
    initial["t_days"] = [str(day) for day in schedule.get("days", [])]
    initial["t_hours"] = [str(hour) for hour in schedule.get("hours", [])]
    return initial


def targeting_data(form: forms.Form) -> dict[str, Any]:
    """The targeting object the campaign services validate and normalize."""
    data = form.cleaned_data
    targeting: dict[str, Any] = {}
    for part, _label, _choices in _TARGETING_LISTS:
        values = list(data.get(f"t_{part}") or [])
        values += [item.strip() for item in data.get(f"t_{part}_other", "").split(",")]
        values = [value for value in values if value]
        if values:
            targeting[part] = {data.get(f"t_{part}_mode") or "include": values}
    for part in ("ip_allow", "ip_deny"):
        lines = [line.strip() for line in data.get(f"t_{part}", "").splitlines()]
        if any(lines):
            targeting[part] = [line for line in lines if line]
    schedule = {
        key: [int(value) for value in data.get(f"t_{key}") or []] for key in ("days", "hours")
    }
    if any(schedule.values()):
        targeting["schedule"] = {key: value for key, value in schedule.items() if value}
    return targeting


class CampaignForm(forms.Form):
    """Every campaign field, plus CAP_ROWS rows of caps (a row without a period is no cap)."""

    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    landing_url = forms.CharField(
        label="Landing URL",
        max_length=2000,
        help_text="Macros: {click_id} {affiliate_id} {campaign_id} {offer_id} {sub1}..{sub5} "
        "{user_id} {country}",
    )
    fallback_url = forms.CharField(
        label="Fallback URL",
        max_length=2000,
        required=False,
        help_text="Where blocked clicks go (paused, capped, not targeted).",
    )
    currency = forms.ChoiceField(label="Currency", choices=_CURRENCIES, initial="USD")
    payout_type = forms.ChoiceField(label="Payout model", choices=PayoutType.choices)
    payout_amount = forms.CharField(
        label="Fixed payout", initial="0", help_text="Fixed model: paid per conversion."
    )
    revshare_percent = forms.CharField(
        label="Revenue share %", initial="0", help_text="Revshare model: percent of revenue."
    )
    default_revenue = forms.CharField(
        label="Default revenue", initial="0", help_text="When the partner's postback has no payout."
    )
    visibility = forms.ChoiceField(label="Visibility", choices=Visibility.choices)
    external_offer_id = forms.CharField(label="Partner's offer id", max_length=100, required=False)
    attribution_window_hours = forms.CharField(label="Attribution window (hours)", initial="720")
    hold_days = forms.CharField(label="Hold (days)", initial="0")
    auto_approve_after_hours = forms.CharField(
        label="Auto-approve pending after (hours)", required=False, help_text="Empty: never."
    )
    allow_multiple_conversions = forms.BooleanField(
        label="Several conversions per click", required=False
    )
    timezone = forms.CharField(label="Time zone (caps)", initial="UTC", max_length=64)
    allowed_countries = forms.CharField(
        label="Countries", required=False, help_text="2-letter codes, comma separated; empty: all."
    )
    min_seconds_to_convert = forms.CharField(
        label="Minimum seconds from click to conversion",
        initial="0",
        required=False,
        help_text="A conversion sooner than this is the too fast signal; 0: never.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cap_fields_add(self, actions=CapAction.choices)
        targeting_fields_add(self)
        fraud_fields_add(self)

    @property
    def cap_rows(self) -> list[list[forms.BoundField]]:
        return cap_rows(self)

    @property
    def targeting_lists(self) -> list[dict[str, Any]]:
        """Per list the template shows: its mode, its checkboxes (if any), its text field."""
        return [
            {
                "label": label,
                "mode": self[f"t_{part}_mode"],
                "choices": self[f"t_{part}"] if choices is not None else None,
                "other": self[f"t_{part}_other"] if part != "device_types" else None,
            }
            for part, label, choices in _TARGETING_LISTS
        ]

    @property
    def fraud_action_fields(self) -> list[forms.BoundField]:
        return [self[f"fraud_{signal}"] for signal in (*CLICK_SIGNALS, *CONVERSION_SIGNALS)]

    @property
    def fraud_threshold_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in THRESHOLDS]

    @staticmethod
    def initial_from(campaign) -> dict:
        initial = {
            name: getattr(campaign, name)
            for name in CampaignForm.base_fields
            if name != "allowed_countries"
        }
        initial["allowed_countries"] = ", ".join(campaign.allowed_countries)
        # Stored with 4 places; the inputs show what a person would type (2.50, 80, 200).
        for name in ("payout_amount", "default_revenue"):
            initial[name] = money_text(initial[name], min_places=2)
        initial["revshare_percent"] = money_text(initial["revshare_percent"])
        initial.update(caps_initial(campaign.campaign_caps))
        initial.update(targeting_initial(campaign.targeting or {}))
        initial.update(fraud_initial(campaign.fraud_policy))
        return initial

    def service_data(self) -> dict:
        """The campaign services' payload (they validate values and rules across fields)."""
        data = {
            name: self.cleaned_data[name]
            for name in self.fields
            if not name.startswith(("cap", "t_"))
        }
        data["allowed_countries"] = [
            code.strip() for code in data["allowed_countries"].split(",") if code.strip()
        ]
        data["caps"] = caps_data(self)
        data["targeting"] = targeting_data(self)
        data["fraud_policy"] = fraud_policy_data(data)
        if data["min_seconds_to_convert"] in ("", None):
            del data["min_seconds_to_convert"]
        return data


_FRAUD_LABELS = {
    "bot": "Bot or empty user agent",
    "deny_list": "IP in the deny list",
    "datacenter": "IP in a data-center list",
    "click_velocity": "Too many clicks from one IP per minute",
    "too_fast": "Converted too fast",
    "ip_mismatch": "Postback IP differs from the click's",
    "conversion_velocity": "Too many conversions from one IP per day",
}
_THRESHOLD_LABELS = {
    "click_velocity_per_minute": "Clicks per IP, link and minute",
    "conversion_velocity_per_day": "Conversions per IP in 24 h",
    "alert_fraud_rejections_per_hour": "Alert the operator at fraud rejections per hour",
}


def fraud_fields_add(form: forms.Form) -> None:
    """One action choice per fraud signal (clicks: allow, flag, block; conversions: allow, flag,
    hold, reject) and the policy's thresholds."""
    for signal in (*CLICK_SIGNALS, *CONVERSION_SIGNALS):
        actions = CLICK_ACTIONS if signal in CLICK_SIGNALS else CONVERSION_ACTIONS
        form.fields[f"fraud_{signal}"] = forms.ChoiceField(
            label=_FRAUD_LABELS[signal],
            choices=[(action, FraudAction(action).label) for action in actions],
            initial=FraudAction.ALLOW,
            required=False,
        )
    for name, (default, minimum) in THRESHOLDS.items():
        form.fields[name] = forms.IntegerField(
            label=_THRESHOLD_LABELS[name], min_value=minimum, initial=default, required=False
        )


def fraud_initial(policy: dict) -> dict:
    actions = fraud_policy_actions(policy)
    initial: dict[str, Any] = {
        f"fraud_{signal}": actions.get(signal, FraudAction.ALLOW)
        for signal in (*CLICK_SIGNALS, *CONVERSION_SIGNALS)
    }
    initial.update({name: fraud_policy_threshold(policy, name) for name in THRESHOLDS})
    return initial


def fraud_policy_data(data: dict) -> dict:
    """Take the fraud fields out of `data` as the campaign services' `fraud_policy` (a signal
    left empty is allowed, a threshold left empty has its default)."""
    actions = {
        signal: data.pop(f"fraud_{signal}") or FraudAction.ALLOW
        for signal in (*CLICK_SIGNALS, *CONVERSION_SIGNALS)
    }
    thresholds = {name: data.pop(name) for name in THRESHOLDS}
    return {
        "actions": actions,
        **{name: value for name, value in thresholds.items() if value is not None},
    }


class LandingPageForm(forms.Form):
    """A landing page of a campaign; `campaigns.landing_pages` validates the values."""

    name = forms.CharField(label="Name", max_length=200)
    url = forms.CharField(
        label="URL", max_length=2000, help_text="The same macros as the landing URL."
    )
    weight = forms.IntegerField(
        label="Weight", min_value=0, initial=100, help_text="0: only when a link pins it."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


class EventForm(forms.Form):
    """A conversion event's terms, plus CAP_ROWS rows of its own caps."""

    code = forms.CharField(
        label="Code",
        max_length=EVENT_CODE_MAX_LENGTH,
        help_text="What the partner's postback sends as goal or event_code: lead, sale, deposit.",
    )
    name = forms.CharField(label="Name", max_length=200)
    payout_type = forms.ChoiceField(label="Payout model", choices=PayoutType.choices)
    payout_amount = forms.CharField(
        label="Fixed payout", initial="0", help_text="Fixed model: paid per conversion."
    )
    revshare_percent = forms.CharField(
        label="Revenue share %", initial="0", help_text="Revshare model: percent of revenue."
    )
    default_revenue = forms.CharField(
        label="Default revenue", initial="0", help_text="When the partner's postback has no payout."
    )
    initial_status = forms.ChoiceField(
        label="Initial status",
        choices=EventInitialStatus.choices,
        help_text="Pending: you approve each conversion (or the campaign's auto-approval does).",
    )
    allow_multiple = forms.BooleanField(label="Several conversions per click", required=False)

    TERMS = (
        "code",
        "name",
        "payout_type",
        "payout_amount",
        "revshare_percent",
        "default_revenue",
        "initial_status",
        "allow_multiple",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A click does not know yet which event it brings: an event's cap cannot block clicks.
        cap_fields_add(self, actions=[(CapAction.REJECT_CONVERSIONS, "Reject further conversions")])

    @property
    def cap_rows(self) -> list[list[forms.BoundField]]:
        return cap_rows(self)

    @staticmethod
    def initial_from(event) -> dict[str, Any]:
        initial = {name: getattr(event, name) for name in EventForm.TERMS}
        for name in ("payout_amount", "default_revenue"):
            initial[name] = money_text(initial[name], min_places=2)
        initial["revshare_percent"] = money_text(initial["revshare_percent"])
        initial.update(caps_initial(event.caps.all()))
        return initial

    def service_data(self) -> dict[str, Any]:
        """The events services' payload (they validate values and rules across fields)."""
        data = {name: self.cleaned_data[name] for name in self.TERMS}
        data["caps"] = caps_data(self)
        return data


def _moment_text(value) -> str:
    """A stored UTC time as a datetime-local input shows it (minutes)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if value else ""


def _moment_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=40,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="UTC. Empty: open.",
    )


class PricingRuleForm(forms.Form):
    """One pricing rule: who and what it applies to, when, and what it pays."""

    event = forms.ChoiceField(label="Event", required=False)
    affiliate = forms.CharField(
        label="Affiliate id",
        required=False,
        max_length=20,
        help_text="Empty: every affiliate.",
        widget=forms.TextInput(attrs={"list": "known-affiliates", "autocomplete": "off"}),
    )
    country = forms.CharField(
        label="Country", required=False, max_length=2, help_text="2-letter code; empty: all."
    )
    sub1 = forms.CharField(label="sub1", required=False, max_length=255, help_text="Empty: any.")
    starts_at = _moment_field("Valid from")
    ends_at = _moment_field("Valid until (excluded)")
    payout_type = forms.ChoiceField(label="Payout model", choices=PayoutType.choices)
    payout_amount = forms.CharField(label="Fixed payout", initial="0")
    revshare_percent = forms.CharField(label="Revenue share %", initial="0")
    revenue_amount = forms.CharField(
        label="Revenue",
        required=False,
        max_length=30,
        help_text="When the partner's postback has none; empty keeps the event's.",
    )
    note = forms.CharField(label="Note", required=False, max_length=200)

    def __init__(self, *args, events=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `events`: the campaign's events.
        form_field(self, "event", forms.ChoiceField).choices = [("", "Every event")] + [
            (str(event.pk), str(event)) for event in events
        ]

    @staticmethod
    def initial_from(rule) -> dict[str, Any]:
        return {
            "event": str(rule.event_id or ""),
            "affiliate": str(rule.affiliate_id or ""),
            "country": rule.country,
            "sub1": rule.sub1,
            "starts_at": _moment_text(rule.starts_at),
            "ends_at": _moment_text(rule.ends_at),
            "payout_type": rule.payout_type,
            "payout_amount": money_text(rule.payout_amount, min_places=2),
            "revshare_percent": money_text(rule.revshare_percent),
            "revenue_amount": (
                "" if rule.revenue_amount is None else money_text(rule.revenue_amount, min_places=2)
            ),
            "note": rule.note,
        }

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class PricingRuleFilterForm(forms.Form):
    event = forms.ChoiceField(label="Event", required=False)
    affiliate = forms.ChoiceField(label="Affiliate", required=False)
    active = forms.ChoiceField(
        label="Validity",
        required=False,
        choices=[*_ANY, ("now", "Active now"), ("not", "Not active now")],
    )

    def __init__(self, *args, events=(), affiliates=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `events`: the campaign's events; `affiliates`: (id, name) of those its rules name.
        form_field(self, "event", forms.ChoiceField).choices = [
            *_ANY,
            ("all", "Every event (no event set)"),
            *[(str(event.pk), event.code) for event in events],
        ]
        form_field(self, "affiliate", forms.ChoiceField).choices = [
            *_ANY,
            ("all", "Every affiliate (no affiliate set)"),
            *[(str(pk), name) for pk, name in affiliates],
        ]


class PricingPreviewForm(forms.Form):
    """Which rule would price a conversion with these criteria."""

    preview_affiliate = forms.IntegerField(label="Affiliate id", min_value=1, max_value=2**63 - 1)
    preview_event = forms.ChoiceField(label="Event")
    preview_country = forms.CharField(label="Country", required=False, max_length=2)
    preview_sub1 = forms.CharField(label="sub1", required=False, max_length=255)
    preview_date = forms.DateField(
        label="On (UTC)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: now.",
    )

    def __init__(self, *args, events=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "preview_event", forms.ChoiceField).choices = [
            (str(event.pk), str(event)) for event in events
        ]

    def clean_preview_country(self) -> str:
        return self.cleaned_data["preview_country"].strip().upper()


class PricingImportForm(forms.Form):
    """A CSV file to check (dry run), or the checked content sent back to apply it."""

    file = forms.FileField(label="CSV file", required=False)
    content = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("file") and not cleaned.get("content"):
            self.add_error("file", "Choose a CSV file.")
        return cleaned

    def file_content(self) -> bytes:
        """The bytes to import: the uploaded file, else the content a dry run sent back."""
        upload = self.cleaned_data.get("file")
        if upload:
            return upload.read(IMPORT_MAX_BYTES + 1)
        try:
            return base64.b64decode(self.cleaned_data["content"], validate=True)
        except binascii.Error as exc:
            raise ApplicationError("Upload the file again.", code="invalid_csv") from exc


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        label="Decision",
        choices=[
            (AccessStatus.APPROVED, "Approve"),
            (AccessStatus.REJECTED, "Reject"),
            (AccessStatus.REVOKED, "Revoke"),
        ],
    )
    reason = forms.CharField(label="Reason", required=False, max_length=500)


KNOWN_AFFILIATES_LIST_ID = "known-affiliates"


class AffiliateLookup(TypedDict, total=False):
    """One of the two: `affiliate_get_for_invitation`'s keyword arguments."""

    affiliate_id: int
    email: str


class InviteForm(forms.Form):
    affiliate = forms.CharField(
        label="Affiliate id or email",
        max_length=254,
        help_text="Its access is approved at once, and it is emailed the invitation.",
        widget=forms.TextInput(attrs={"list": KNOWN_AFFILIATES_LIST_ID, "autocomplete": "off"}),
    )

    def lookup(self) -> "AffiliateLookup":
        """How to find the affiliate: `affiliate_id` (digits) or `email`."""
        value = self.cleaned_data["affiliate"].strip()
        if value.isdecimal():
            return {"affiliate_id": int(value)}
        return {"email": value}


def _allowlist_field() -> forms.CharField:
    return forms.CharField(
        label="IP allowlist",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One IP address or CIDR range per line; empty allows any source.",
    )


def _pairs_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "data-profile-custom": "1"}),
        help_text=help_text,
    )


def pairs_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{theirs}={ours}" for theirs, ours in sorted(mapping.items()))


class PartnerKeyCreateForm(forms.Form):
    """The key's settings and how its postbacks are read. A pasted postback URL can be previewed
    with the profile chosen here before saving (the "Preview" button)."""

    name = forms.CharField(label="Name", max_length=100, required=False)
    ip_allowlist = _allowlist_field()
    require_signature = forms.BooleanField(label="Require an HMAC signature", required=False)
    profile = forms.ChoiceField(
        label="Postback profile",
        choices=PartnerProfile.choices,
        initial=PartnerProfile.CLICKLEDGER,
        required=False,
        help_text="The platform that sends the postbacks: its parameter names and statuses are "
        "read as ours. Our own names keep working with every profile.",
    )
    param_map = _pairs_field(
        "Custom parameters",
        "Custom profile only. One their=ours per line, e.g. clickref=click_id, "
        "order=transaction_id.",
    )
    status_map = _pairs_field(
        "Custom statuses",
        "Custom profile only. One their=ours per line, e.g. sale=approved, hold=pending.",
    )
    preview_url = forms.CharField(
        label="Preview a postback URL",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text="Paste a postback as the partner would send it, then Preview: nothing is "
        "saved or recorded.",
    )

    def _pairs(self, name: str) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data[name].splitlines(), start=1):
            if not line.strip():
                continue
            theirs, sep, ours = line.partition("=")
            if not sep or not theirs.strip() or not ours.strip():
                raise forms.ValidationError(f"Line {number}: write their=ours.")
            pairs[theirs.strip()] = ours.strip()
        return pairs

    def clean_param_map(self) -> dict[str, str]:
        return self._pairs("param_map")

    def clean_status_map(self) -> dict[str, str]:
        return self._pairs("status_map")

    def allowlist(self) -> list[str]:
        raw = self.cleaned_data["ip_allowlist"].replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def profile_data(self) -> dict[str, Any]:
        """The profile and its maps (maps only for custom: another profile takes none)."""
        profile = self.cleaned_data["profile"] or PartnerProfile.CLICKLEDGER
        custom = profile == PartnerProfile.CUSTOM
        return {
            "profile": profile,
            "param_map": self.cleaned_data["param_map"] if custom else {},
            "status_map": self.cleaned_data["status_map"] if custom else {},
        }


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=50, help_text="What uses it, e.g. “reporting script”."
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=ApiKeyScope.choices,
        initial=ApiKeyScope.READ,
        widget=forms.RadioSelect,
        help_text="Read: it may only fetch data. Read and write: it may do what you may.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="It works through this day (UTC). Empty: it never expires.",
    )
    ip_allowlist = _allowlist_field()

    def allowlist(self) -> list[str]:
        raw = self.cleaned_data["ip_allowlist"].replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class PartnerKeyEditForm(PartnerKeyCreateForm):
    is_active = forms.BooleanField(label="Active", required=False)


class ConversionStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="New status",
        choices=[
            (ConversionStatus.APPROVED, "Approved"),
            (ConversionStatus.REJECTED, "Rejected"),
            (ConversionStatus.REVERSED, "Reversed"),
        ],
    )
    reason = forms.CharField(label="Reason", required=False, max_length=255)


# --- affiliate ---------------------------------------------------------------------------------


class ApplyForm(forms.Form):
    message = forms.CharField(
        label="Message to the advertiser",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Your traffic sources, expected volume.",
    )


class LinkBuilderForm(forms.Form):
    sub1 = forms.CharField(label="sub1", required=False, max_length=255)
    sub2 = forms.CharField(label="sub2", required=False, max_length=255)
    sub3 = forms.CharField(label="sub3", required=False, max_length=255)
    sub4 = forms.CharField(label="sub4", required=False, max_length=255)
    sub5 = forms.CharField(label="sub5", required=False, max_length=255)
    user_id = forms.CharField(label="End user id", required=False, max_length=255)


class EndpointForm(forms.Form):
    name = forms.CharField(label="Name", required=False, max_length=100)
    url = forms.CharField(label="URL template", max_length=2000)
    method = forms.ChoiceField(label="Method", choices=EndpointMethod.choices)
    events = forms.MultipleChoiceField(
        label="Events", choices=ForwardEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    campaign = forms.TypedChoiceField(
        label="Campaign", coerce=int, required=False, empty_value=None
    )
    conversion_events = forms.CharField(
        label="Conversion events",
        required=False,
        max_length=2000,
        help_text="Event codes, comma separated (lead, sale); empty: every event.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, campaigns=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "campaign", forms.ChoiceField).choices = [
            ("", "All campaigns"),
            *campaigns,
        ]

    def clean_conversion_events(self) -> list[str]:
        raw = self.cleaned_data["conversion_events"]
        return [code.strip() for code in raw.split(",") if code.strip()]


class PayoutRequestForm(forms.Form):
    """With saved payout methods, the affiliate picks one of them (empty: its default one);
    without any, a channel, paid to the profile's details."""

    amount = forms.CharField(label="Amount", max_length=30)
    currency = forms.ChoiceField(label="Currency", choices=_CURRENCIES, initial="USD")
    method = forms.ChoiceField(label="Method", choices=PayoutMethod.choices)
    payout_method = forms.TypedChoiceField(
        label="Pay to", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, payout_methods: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(method.pk, str(summary)) for method, summary in payout_methods]
        if choices:
            del self.fields["method"]
            form_field(self, "payout_method", forms.ChoiceField).choices = [
                ("", "My default payout method"),
                *choices,
            ]
        else:
            del self.fields["payout_method"]


_NETWORK_CHOICES = [("", "Choose a network")]


def _payout_detail_field(name: str) -> forms.Field:
    """The portal's field for one payout method detail (`payouts.payout_methods`)."""
    labels = {
        "email": ("PayPal email", "The email of your PayPal account."),
        "account_holder": ("Account holder", "The name the account is in, as the bank has it."),
        "iban": ("IBAN", "Spaces are fine; its check digits are verified."),
        "bic": ("BIC", "Optional when your bank is known from the IBAN."),
        "bank_name": ("Bank name", ""),
        "account_number": ("Account number", "Letters and digits; spaces and dashes are ignored."),
        "swift_bic": ("SWIFT/BIC code", "8 or 11 characters."),
        "bank_address": ("Bank address", ""),
        "currency": ("Coin", "Its ticker, e.g. USDT or BTC."),
        "address": ("Wallet address", "Copy it whole from your wallet."),
    }
    if name == "network":
        return forms.ChoiceField(
            label="Network",
            choices=[*_NETWORK_CHOICES, *((code, label) for code, (label, _) in NETWORKS.items())],
        )
    label, help_text = labels[name]
    widget = forms.Textarea(attrs={"rows": 2}) if name == "bank_address" else None
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=300,
        required=name != "bic",
        widget=widget,
    )


class ReauthenticationForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Changes to where your money goes need your current password.",
    )


class PayoutMethodForm(ReauthenticationForm):
    """One kind's fields (`payouts.payout_methods.DETAIL_FIELDS`), the label, the default
    choice, and the password last."""

    label = forms.CharField(
        label="Name", required=False, max_length=100, help_text="Optional, e.g. “Main account”."
    )
    is_default = forms.BooleanField(label="Use it by default", required=False)

    field_order = ["label"]

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        password = self.fields.pop("password")
        is_default = self.fields.pop("is_default")
        for name in DETAIL_FIELDS[kind]:
            self.fields[name] = _payout_detail_field(name)
        self.fields["is_default"] = is_default
        self.fields["password"] = password
        self.detail_names = DETAIL_FIELDS[kind]

    def details(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.detail_names}


# --- postback tester (advertiser) --------------------------------------------------------------

TESTER_STATUSES = [
    ("test", "test (logged only: no conversion, no money)"),
    (ConversionStatus.APPROVED, "approved"),
    (ConversionStatus.PENDING, "pending"),
    (ConversionStatus.REJECTED, "rejected"),
    (ConversionStatus.REVERSED, "reversed"),
]
TESTER_MAX_PARAMS = 20


class PostbackTesterForm(forms.Form):
    """One postback to send as a partner would. Only the shape is checked here: whatever the
    postback service refuses (unknown click, wrong currency, bad transition) is a result to
    show, not a form error."""

    method = forms.ChoiceField(
        label="Method",
        choices=[("GET", "GET (parameters in the query string)"), ("POST", "POST (form body)")],
        initial="GET",
    )
    click_id = forms.CharField(
        label="Click id",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"list": "recent-clicks", "autocomplete": "off"}),
        help_text="Your most recent clicks are suggested as you type.",
    )
    status = forms.ChoiceField(label="Status", choices=TESTER_STATUSES, initial="test")
    payout = forms.CharField(
        label="Payout (your revenue)",
        required=False,
        max_length=30,
        help_text="What the partner pays; empty: the campaign's default revenue.",
    )
    currency = forms.ChoiceField(
        label="Currency",
        required=False,
        choices=[("", "Not sent (the campaign's)"), *_CURRENCIES],
    )
    transaction_id = forms.CharField(label="Transaction id", required=False, max_length=255)
    user_id = forms.CharField(label="End user id", required=False, max_length=255)
    params = forms.CharField(
        label="Other parameters",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One name=value per line: sub_id1=banner, offer_id=…, reason=…, or any "
        "custom field.",
    )

    dry_run = forms.BooleanField(
        label="Dry run: show what would happen, record nothing",
        required=False,
        help_text="Runs the same checks in a transaction that is rolled back: no conversion, "
        "no money, no log row, nothing forwarded.",
    )

    OWN_FIELDS = ("click_id", "status", "payout", "currency", "transaction_id", "user_id")

    def clean_payout(self) -> str:
        payout = self.cleaned_data["payout"]
        if payout:
            try:
                parse_money(payout)
            except ValueError as exc:
                raise forms.ValidationError(
                    f"Enter a non-negative amount with at most 4 decimal places ({exc})."
                ) from exc
        return payout

    def clean_params(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for number, line in enumerate(self.cleaned_data["params"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            name = name.strip()
            if not sep or not name:
                raise forms.ValidationError(f"Line {number}: write name=value.")
            if name in self.OWN_FIELDS:
                raise forms.ValidationError(f"Line {number}: set {name} in its own field above.")
            if name in {existing for existing, _ in pairs}:
                raise forms.ValidationError(f"Line {number}: {name} is given twice.")
            pairs.append((name, value.strip()))
        if len(pairs) > TESTER_MAX_PARAMS:
            raise forms.ValidationError(f"At most {TESTER_MAX_PARAMS} other parameters.")
        return pairs

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        has_offer = any(name in ("offer_id", "survey_id") for name, _ in cleaned.get("params", []))
        if "click_id" in cleaned and not cleaned["click_id"] and not has_offer:
            self.add_error(
                "click_id",
                "Enter a click id (or an offer_id parameter below, for fallback matching).",
            )
        return cleaned

    def postback_params(self) -> list[tuple[str, str]]:
        """The parameters to send, in this order; empty fields are not sent."""
        own = [(name, self.cleaned_data[name]) for name in self.OWN_FIELDS]
        return [(name, value) for name, value in own if value] + self.cleaned_data["params"]


class ReconciliationUploadForm(forms.Form):
    """An advertiser's conversion list to compare with ours (the preview writes nothing else)."""

    campaign = forms.TypedChoiceField(
        label="Campaign", coerce=int, required=False, empty_value=None
    )
    date_from = forms.DateField(label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label="CSV file")

    def __init__(self, *args, campaigns=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `campaigns`: (id, name) pairs of the advertiser's campaigns.
        choices = [("", "All my campaigns"), *campaigns]
        form_field(self, "campaign", forms.ChoiceField).choices = choices


class ReconciliationApplyForm(forms.Form):
    classes = forms.MultipleChoiceField(
        label="Apply",
        choices=[
            ("status_differs", "Status differs: move our conversions to your status"),
            ("amount_differs", "Amount differs: report only"),
            ("missing_here", "Missing here: report only"),
        ],
        widget=forms.CheckboxSelectMultiple,
    )


# --- smart links (affiliate) -------------------------------------------------------------------


class SmartLinkForm(forms.Form):
    """A smart link: its fields, and per offered campaign an "include" box, a priority and a
    weight (`include_<id>`, `priority_<id>`, `weight_<id>`). `entry_rows()` pairs each campaign
    with its three bound fields for the template; `entries()` is the service's list."""

    name = forms.CharField(label="Name", max_length=200)
    catch_all_url = forms.CharField(
        label="Catch-all URL",
        required=False,
        max_length=2000,
        help_text=(
            "Where visits go that no campaign can take (paused, capped, targeted elsewhere). "
            "May use {affiliate_id} {sub1}…{sub5} {user_id} {country}. Empty: they get a 404."
        ),
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, campaigns: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns = campaigns
        for campaign_id, name in campaigns:
            self.fields[f"include_{campaign_id}"] = forms.BooleanField(label=name, required=False)
            self.fields[f"priority_{campaign_id}"] = forms.IntegerField(
                label="Priority", min_value=1, max_value=1000, initial=1, required=False
            )
            self.fields[f"weight_{campaign_id}"] = forms.IntegerField(
                label="Weight", min_value=0, max_value=1_000_000, initial=100, required=False
            )

    @staticmethod
    def initial_from(smart_link: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": smart_link.name,
            "catch_all_url": smart_link.catch_all_url,
            "is_active": smart_link.is_active,
        }
        for entry in smart_link.entries.all():
            initial[f"include_{entry.campaign_id}"] = True
            initial[f"priority_{entry.campaign_id}"] = entry.priority
            initial[f"weight_{entry.campaign_id}"] = entry.weight
        return initial

    def entry_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (
                campaign_id,
                self[f"include_{campaign_id}"],
                self[f"priority_{campaign_id}"],
                self[f"weight_{campaign_id}"],
            )
            for campaign_id, _name in self.campaigns
        ]

    def entries(self) -> list[dict[str, int]]:
        data = self.cleaned_data
        return [
            {
                "campaign": campaign_id,
                "priority": data.get(f"priority_{campaign_id}") or 1,
                "weight": (
                    100
                    if data.get(f"weight_{campaign_id}") is None
                    else data[f"weight_{campaign_id}"]
                ),
            }
            for campaign_id, _name in self.campaigns
            if data.get(f"include_{campaign_id}")
        ]
