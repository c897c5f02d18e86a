"""Authentication endpoints, the caller's API keys, and the accounts resources
(`/api/affiliates`, `/api/advertisers`)."""

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors
from accounts.api_keys import api_key_create, api_key_revoke
from accounts.authentication import (
    TokenPair,
    auth_cookies_clear,
    auth_cookies_set,
    refresh_token_from,
    refresh_token_revoke,
    refresh_token_rotate,
    user_login,
)
from accounts.filters import PARTNER_ORDERING_TERMS, AdvertiserFilter, AffiliateFilter
from accounts.http import AuthenticatedRequest
from accounts.models import ApiKey, ApiKeyScope, ApprovalStatus, PayoutMethod, Role, User
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAdminOrApprovedAffiliate,
    IsApprovedUser,
    IsNetworkAdmin,
    NotApiKey,
    staff_permissions,
)
from accounts.services import partner_profile_of, partner_status_set, user_register
from core.api_schema import error_response, error_responses
from core.audit import audit_source_for_request
from core.filters import PAGINATION_PARAMETERS, query_params_check
from core.pagination import StandardPagination, paginated_response


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(
        choices=ApprovalStatus.choices,
        help_text="Admins are always `approved`; partners wait as `pending` until approved.",
    )

    class Meta:
        ref_name = "UserSummary"


def _user_summary(user: User) -> dict:
    profile = partner_profile_of(user)
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": Role.ADMIN if user.is_network_admin else user.role,
        "status": profile.status if profile else ApprovalStatus.APPROVED,
    }


class _TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (15 minutes): `Bearer <access>`.")
    refresh = serializers.CharField(help_text="Refresh token: spend it once at /api/auth/refresh.")

    class Meta:
        ref_name = "TokenPair"


class _StrictCharField(serializers.CharField):
    """A string only: DRF's CharField would also take a number or a boolean as its text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _RefreshInputSerializer(serializers.Serializer):
    refresh = _StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Omit it to use the `refresh_token` cookie (then send X-CSRFToken).",
    )

    class Meta:
        ref_name = "RefreshInput"


_THROTTLED = error_response("Too many requests from this client (`throttled`).")
_NOT_AUTHENTICATED = error_response("Not authenticated.")
_FORBIDDEN = error_response("Authenticated, but the role may not do this.")
_NOT_FOUND = error_response("Not found, or not visible to the caller.")
_INVALID = error_response("Invalid input (`code` names the problem; `fields` the inputs).")


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_register"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
        role = serializers.ChoiceField(choices=[Role.AFFILIATE, Role.ADVERTISER])
        name = serializers.CharField(max_length=150)
        company = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default=""
        )

        class Meta:
            ref_name = "RegisterInput"

    @extend_schema(
        summary="Register an affiliate or advertiser (pending until an admin approves)",
        request=InputSerializer,
        responses={
            201: UserSummarySerializer,
            400: error_response("Invalid input, or `weak_password`."),
            409: error_response("`email_taken`: an account with this email exists."),
            429: _THROTTLED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(_user_summary(user), status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_login"

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
        otp = _StrictCharField(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            write_only=True,
            help_text=(
                "The two-factor code (6 digits from the authenticator app, or an unused "
                "recovery code), for accounts with two-factor authentication on."
            ),
        )

        class Meta:
            ref_name = "LoginInput"

    class OutputSerializer(_TokenPairSerializer):
        user = UserSummarySerializer()

        class Meta:
            ref_name = "LoginOutput"

    @extend_schema(
        summary="Log in: a token pair in the body and as httpOnly cookies",
        description=(
            "Sets `access_token` and `refresh_token` (httpOnly, SameSite=Lax) and a fresh "
            "`csrftoken` cookie. Pending, rejected and suspended partners may log in to read "
            "their status; other endpoints refuse them. Five failures for one email from one "
            "IP lock that pair out for 15 minutes (429 `too_many_attempts`). An account with "
            "two-factor authentication on also sends `otp` (401 `otp_required` without it, "
            "`invalid_otp` when it is wrong or already used); one whose role must use it and "
            "has not set it up yet is refused with 403 `otp_enrolment_required`."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: _INVALID,
            401: error_response("`invalid_credentials`, `otp_required` or `invalid_otp`."),
            403: error_response(
                "`otp_enrolment_required`: the role must use two-factor authentication; set it "
                "up in the portal first."
            ),
            429: error_response("`too_many_attempts` (locked out) or `throttled`."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = user_login(request=request, **serializer.validated_data)
        return _token_response(pair, with_user=True)


def _token_response(pair: TokenPair, *, with_user: bool = False) -> Response:
    body: dict = {"access": pair.access, "refresh": pair.refresh}
    if with_user:
        body["user"] = _user_summary(pair.user)
    response = Response(body)
    auth_cookies_set(response, pair)
    return response


class RefreshApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_refresh"

    @extend_schema(
        summary="Spend a refresh token for a new pair (each refresh token works once)",
        description=(
            "Takes `refresh` from the body, else the `refresh_token` cookie (then the request "
            "needs the X-CSRFToken header). Sets the new pair as cookies too."
        ),
        request=_RefreshInputSerializer,
        responses={
            200: _TokenPairSerializer,
            400: error_response("`invalid`: `refresh` is not a string."),
            401: error_response(
                "`token_not_valid` (expired, forged or already used) or "
                "`not_authenticated` (no token)."
            ),
            403: error_response("CSRF check failed (token from the cookie)."),
            429: _THROTTLED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = _RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw_token = refresh_token_from(request, serializer.validated_data["refresh"])
        return _token_response(refresh_token_rotate(raw_token=raw_token))


class LogoutApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Log out: revoke the refresh token and clear the auth cookies",
        description=(
            "Idempotent: a token that is already spent or expired has nothing left to revoke "
            "and still answers 204. Access tokens already issued stay valid until they expire "
            "(at most 15 minutes)."
        ),
        request=_RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="Logged out; cookies cleared."),
            400: error_response("`invalid`: `refresh` is not a string."),
            401: error_response("`not_authenticated`: no refresh token in body or cookie."),
            403: error_response("CSRF check failed (token from the cookie)."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = _RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw_token = refresh_token_from(request, serializer.validated_data["refresh"])
        refresh_token_revoke(raw_token=raw_token)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        auth_cookies_clear(response)
        return response


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: UserSummarySerializer, 401: _NOT_AUTHENTICATED},
        summary="The logged-in user and its role",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(UserSummarySerializer(_user_summary(request.user)).data)


# --- Affiliates and advertisers -----------------------------------------------------------------


class _PartnerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user_id", help_text="The partner's user id.")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    company = serializers.CharField()
    contact_name = serializers.CharField()
    phone = serializers.CharField()
    website = serializers.CharField()
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    status_reason = serializers.CharField()
    status_changed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AffiliateOutputSerializer(_PartnerOutputSerializer):
    traffic_sources = serializers.CharField()
    payout_method = serializers.ChoiceField(choices=PayoutMethod.choices)
    payout_details = serializers.CharField()

    class Meta:
        ref_name = "Affiliate"


class AdvertiserOutputSerializer(_PartnerOutputSerializer):
    class Meta:
        ref_name = "Advertiser"


def _page_serializer(name: str, item_serializer: type[serializers.Serializer]):
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )


_LIST_PARAMETERS = [
    OpenApiParameter(
        "status",
        str,
        many=True,
        enum=[choice.value for choice in ApprovalStatus],
        description="Repeat to match any of several statuses.",
    ),
    OpenApiParameter("search", str, description="Part of the email, name or company."),
    OpenApiParameter(
        "ordering",
        {"type": "array", "items": {"type": "string", "enum": PARTNER_ORDERING_TERMS}},
        style="form",
        explode=False,
        description="Comma-separated sort keys; prefix `-` for descending. Default: id.",
    ),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="At most 500."),
]


def _filtered(filterset_class, request: Request, queryset):
    query_params_check(
        request.query_params, allowed=[*filterset_class.base_filters, *PAGINATION_PARAMETERS]
    )
    filterset = filterset_class(request.query_params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


class AffiliateListApi(APIView):
    admin_permissions = staff_permissions("accounts.affiliate")
    permission_classes = [IsNetworkAdmin]

    @extend_schema(
        summary="Affiliates (admin)",
        operation_id="affiliates_list",
        parameters=_LIST_PARAMETERS,
        responses={
            200: _page_serializer("AffiliatePage", AffiliateOutputSerializer),
            400: _INVALID,
            401: _NOT_AUTHENTICATED,
            403: _FORBIDDEN,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = _filtered(
            AffiliateFilter, request, selectors.affiliate_list(viewer=request.user)
        )
        return paginated_response(
            queryset=queryset,
            serializer_class=AffiliateOutputSerializer,
            request=request,
            view=self,
        )


class AdvertiserListApi(APIView):
    admin_permissions = staff_permissions("accounts.advertiser")
    permission_classes = [IsNetworkAdmin]

    @extend_schema(
        summary="Advertisers (admin)",
        operation_id="advertisers_list",
        parameters=_LIST_PARAMETERS,
        responses={
            200: _page_serializer("AdvertiserPage", AdvertiserOutputSerializer),
            400: _INVALID,
            401: _NOT_AUTHENTICATED,
            403: _FORBIDDEN,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = _filtered(
            AdvertiserFilter, request, selectors.advertiser_list(viewer=request.user)
        )
        return paginated_response(
            queryset=queryset,
            serializer_class=AdvertiserOutputSerializer,
            request=request,
            view=self,
        )


class AffiliateDetailApi(APIView):
    admin_permissions = staff_permissions("accounts.affiliate")
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="One affiliate (admin; an affiliate sees only itself)",
        responses={
            200: AffiliateOutputSerializer,
            401: _NOT_AUTHENTICATED,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    def get(self, request: AuthenticatedRequest, affiliate_id: int) -> Response:
        affiliate = selectors.affiliate_get(viewer=request.user, affiliate_id=affiliate_id)
        return Response(AffiliateOutputSerializer(affiliate).data)


class AdvertiserDetailApi(APIView):
    admin_permissions = staff_permissions("accounts.advertiser")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="One advertiser (admin; an advertiser sees only itself)",
        responses={
            200: AdvertiserOutputSerializer,
            401: _NOT_AUTHENTICATED,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    def get(self, request: AuthenticatedRequest, advertiser_id: int) -> Response:
        advertiser = selectors.advertiser_get(viewer=request.user, advertiser_id=advertiser_id)
        return Response(AdvertiserOutputSerializer(advertiser).data)


class _StatusInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Shown to the partner in the notification email.",
    )

    class Meta:
        ref_name = "PartnerStatusInput"


_STATUS_ERRORS = {
    400: _INVALID,
    401: _NOT_AUTHENTICATED,
    403: _FORBIDDEN,
    404: _NOT_FOUND,
    409: error_response("`invalid_transition`: the current status cannot move there."),
}


class _PartnerStatusApi(APIView):
    """Approve, reject or suspend a partner (admin). Setting the status it already has is a
    no-op answering 200; a refused transition is 409. The partner is emailed after commit."""

    permission_classes = [IsNetworkAdmin]
    target_status: str = ""

    def _partner(self, request: AuthenticatedRequest, partner_id: int):
        raise NotImplementedError

    def _serialize(self, profile) -> dict:
        raise NotImplementedError

    def post(self, request: AuthenticatedRequest, partner_id: int) -> Response:
        serializer = _StatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = partner_status_set(
            profile=self._partner(request, partner_id),
            status=self.target_status,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            source=audit_source_for_request(request),
        )
        return Response(self._serialize(profile))


class _AffiliateStatusApi(_PartnerStatusApi):
    admin_permissions = staff_permissions("accounts.affiliate", POST="change")

    def _partner(self, request: AuthenticatedRequest, partner_id: int):
        return selectors.affiliate_get(viewer=request.user, affiliate_id=partner_id)

    def _serialize(self, profile) -> dict:
        return AffiliateOutputSerializer(profile).data


class _AdvertiserStatusApi(_PartnerStatusApi):
    admin_permissions = staff_permissions("accounts.advertiser", POST="change")

    def _partner(self, request: AuthenticatedRequest, partner_id: int):
        return selectors.advertiser_get(viewer=request.user, advertiser_id=partner_id)

    def _serialize(self, profile) -> dict:
        return AdvertiserOutputSerializer(profile).data


def _status_schema(summary: str, output: type[serializers.Serializer]):
    return extend_schema(
        summary=summary,
        request=_StatusInputSerializer,
        responses={200: output, **_STATUS_ERRORS},
    )


@_status_schema("Approve an affiliate (admin)", AffiliateOutputSerializer)
class AffiliateApproveApi(_AffiliateStatusApi):
    target_status = ApprovalStatus.APPROVED


@_status_schema("Reject an affiliate (admin)", AffiliateOutputSerializer)
class AffiliateRejectApi(_AffiliateStatusApi):
    target_status = ApprovalStatus.REJECTED


@_status_schema("Suspend an affiliate (admin)", AffiliateOutputSerializer)
class AffiliateSuspendApi(_AffiliateStatusApi):
    target_status = ApprovalStatus.SUSPENDED


@_status_schema("Approve an advertiser (admin)", AdvertiserOutputSerializer)
class AdvertiserApproveApi(_AdvertiserStatusApi):
    target_status = ApprovalStatus.APPROVED


@_status_schema("Reject an advertiser (admin)", AdvertiserOutputSerializer)
class AdvertiserRejectApi(_AdvertiserStatusApi):
    target_status = ApprovalStatus.REJECTED


@_status_schema("Suspend an advertiser (admin)", AdvertiserOutputSerializer)
class AdvertiserSuspendApi(_AdvertiserStatusApi):
    target_status = ApprovalStatus.SUSPENDED


# --- API keys -----------------------------------------------------------------------------------


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to tell keys apart.")
    scope = serializers.ChoiceField(
        choices=ApiKeyScope.choices, help_text="`read`: GET only; `write`: what the owner may."
    )
    ip_allowlist = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(source="expiry_date", allow_null=True)
    created_at = serializers.DateTimeField(source="created")
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="Updated at most once a minute."
    )
    revoked = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ApiKey"


class ApiKeyWithSecretOutputSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(
        help_text="The key itself: shown in this answer only, never again (it is stored hashed)."
    )

    class Meta:
        ref_name = "ApiKeyWithSecret"


_API_KEY_LOGIN_ONLY = (
    "Managing keys needs a login (JWT or the session): a request authenticated by an API key "
    "answers 403 `login_required`."
)


class ApiKeyListCreateApi(GenericAPIView):
    """The caller's own API keys."""

    # `queryset` and `pagination_class` describe the paginated list in the schema.
    queryset = ApiKey.objects.none()
    pagination_class = StandardPagination
    filter_backends: list = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsApprovedUser(), NotApiKey()]
        return [IsApprovedUser()]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)
        scope = serializers.ChoiceField(choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
        expires_at = serializers.DateTimeField(
            required=False, allow_null=True, help_text="None (the default): it never expires."
        )
        ip_allowlist = serializers.ListField(
            child=serializers.CharField(max_length=64),
            max_length=100,
            required=False,
            help_text="IP addresses or CIDR ranges; empty (the default) allows any.",
        )

        class Meta:
            ref_name = "ApiKeyCreateInput"

    # OPTIONS (DRF's metadata) describes POST's input from it.
    serializer_class = InputSerializer

    @extend_schema(
        summary="List your API keys",
        responses={200: ApiKeyOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=selectors.api_key_list(viewer=request.user),
            serializer_class=ApiKeyOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Make an API key",
        description="The answer's `key` is the only time the key is shown. " + _API_KEY_LOGIN_ONLY,
        request=InputSerializer,
        responses={201: ApiKeyWithSecretOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = api_key_create(user=request.user, now=timezone.now(), **serializer.validated_data)
        data = ApiKeyOutputSerializer(issued.api_key).data
        data["key"] = issued.key
        return Response(data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    permission_classes = [IsApprovedUser, NotApiKey]

    @extend_schema(
        summary="One of your API keys",
        description="Its name, prefix, scope, expiry, IP allowlist and last use; never the key. "
        + _API_KEY_LOGIN_ONLY,
        responses={200: ApiKeyOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, api_key_id: int) -> Response:
        api_key = selectors.api_key_get(viewer=request.user, api_key_id=api_key_id)
        return Response(ApiKeyOutputSerializer(api_key).data)

    @extend_schema(
        summary="Revoke one of your API keys",
        description="The same as `POST /api/api-keys/<id>/revoke`, answered with no body: the key "
        "is refused from now on (`api_key_revoked`) and stays listed as revoked. "
        + _API_KEY_LOGIN_ONLY,
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: AuthenticatedRequest, api_key_id: int) -> Response:
        api_key = selectors.api_key_get(viewer=request.user, api_key_id=api_key_id)
        api_key_revoke(api_key=api_key, now=timezone.now())
        return Response(status=204)


class ApiKeyRevokeApi(APIView):
    permission_classes = [IsApprovedUser, NotApiKey]

    @extend_schema(
        summary="Revoke one of your API keys",
        description="Final: the key is refused from now on (`api_key_revoked`). Revoking a "
        "revoked key changes nothing. " + _API_KEY_LOGIN_ONLY,
        request=None,
        responses={200: ApiKeyOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, api_key_id: int) -> Response:
        api_key = selectors.api_key_get(viewer=request.user, api_key_id=api_key_id)
        api_key = api_key_revoke(api_key=api_key, now=timezone.now())
        return Response(ApiKeyOutputSerializer(api_key).data)
