from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/register", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me", apis.MeApi.as_view(), name="auth-me"),
    path("api-keys", apis.ApiKeyListCreateApi.as_view(), name="api-key-list"),
    path("api-keys/<int:api_key_id>", apis.ApiKeyDetailApi.as_view(), name="api-key"),
    path("api-keys/<int:api_key_id>/revoke", apis.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    path("affiliates", apis.AffiliateListApi.as_view(), name="affiliate-list"),
    path("affiliates/<int:affiliate_id>", apis.AffiliateDetailApi.as_view(), name="affiliate"),
    path(
        "affiliates/<int:partner_id>/approve",
        apis.AffiliateApproveApi.as_view(),
        name="affiliate-approve",
    ),
    path(
        "affiliates/<int:partner_id>/reject",
        apis.AffiliateRejectApi.as_view(),
        name="affiliate-reject",
    ),
    path(
        "affiliates/<int:partner_id>/suspend",
        apis.AffiliateSuspendApi.as_view(),
        name="affiliate-suspend",
    ),
    path("advertisers", apis.AdvertiserListApi.as_view(), name="advertiser-list"),
    path("advertisers/<int:advertiser_id>", apis.AdvertiserDetailApi.as_view(), name="advertiser"),
    path(
        "advertisers/<int:partner_id>/approve",
        apis.AdvertiserApproveApi.as_view(),
        name="advertiser-approve",
    ),
    path(
        "advertisers/<int:partner_id>/reject",
        apis.AdvertiserRejectApi.as_view(),
        name="advertiser-reject",
    ),
    path(
        "advertisers/<int:partner_id>/suspend",
        apis.AdvertiserSuspendApi.as_view(),
        name="advertiser-suspend",
    ),
]
