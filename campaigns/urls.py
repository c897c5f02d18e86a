"""Campaigns API, included under `/api/` (paths without a trailing slash)."""

from django.urls import path

from campaigns import apis, apis_events, apis_landing_pages, apis_pricing_rules, apis_smart_links

urlpatterns = [
    path("campaigns", apis.CampaignListCreateApi.as_view(), name="api-campaigns"),
    path("campaigns/<int:campaign_id>", apis.CampaignDetailApi.as_view(), name="api-campaign"),
    path(
        "campaigns/<int:campaign_id>/pause",
        apis.CampaignPauseApi.as_view(),
        name="api-campaign-pause",
    ),
    path(
        "campaigns/<int:campaign_id>/resume",
        apis.CampaignResumeApi.as_view(),
        name="api-campaign-resume",
    ),
    path(
        "campaigns/<int:campaign_id>/archive",
        apis.CampaignArchiveApi.as_view(),
        name="api-campaign-archive",
    ),
    path(
        "campaigns/<int:campaign_id>/apply",
        apis.CampaignApplyApi.as_view(),
        name="api-campaign-apply",
    ),
    path(
        "campaigns/<int:campaign_id>/invite",
        apis.CampaignInviteApi.as_view(),
        name="api-campaign-invite",
    ),
    path(
        "campaigns/<int:campaign_id>/link",
        apis.CampaignLinkApi.as_view(),
        name="api-campaign-link",
    ),
    path(
        "campaigns/<int:campaign_id>/events",
        apis_events.CampaignEventListCreateApi.as_view(),
        name="api-campaign-events",
    ),
    path("events/<int:event_id>", apis_events.EventDetailApi.as_view(), name="api-event"),
    path(
        "campaigns/<int:campaign_id>/landing-pages",
        apis_landing_pages.CampaignLandingPageListCreateApi.as_view(),
        name="api-campaign-landing-pages",
    ),
    path(
        "landing-pages/<int:landing_page_id>",
        apis_landing_pages.LandingPageDetailApi.as_view(),
        name="api-landing-page",
    ),
    path(
        "campaigns/<int:campaign_id>/pricing-rules",
        apis_pricing_rules.CampaignPricingRuleListCreateApi.as_view(),
        name="api-campaign-pricing-rules",
    ),
    path(
        "campaigns/<int:campaign_id>/pricing-rules/import",
        apis_pricing_rules.CampaignPricingRuleImportApi.as_view(),
        name="api-campaign-pricing-rules-import",
    ),
    path(
        "campaigns/<int:campaign_id>/pricing-rules/preview",
        apis_pricing_rules.CampaignPricingRulePreviewApi.as_view(),
        name="api-campaign-pricing-rules-preview",
    ),
    path(
        "pricing-rules/<int:rule_id>",
        apis_pricing_rules.PricingRuleDetailApi.as_view(),
        name="api-pricing-rule",
    ),
    path("applications", apis.ApplicationListApi.as_view(), name="api-applications"),
    path(
        "applications/<int:application_id>/approve",
        apis.ApplicationApproveApi.as_view(),
        name="api-application-approve",
    ),
    path(
        "applications/<int:application_id>/reject",
        apis.ApplicationRejectApi.as_view(),
        name="api-application-reject",
    ),
    path(
        "applications/<int:application_id>/revoke",
        apis.ApplicationRevokeApi.as_view(),
        name="api-application-revoke",
    ),
    path("partner-keys", apis.PartnerKeyListCreateApi.as_view(), name="api-partner-keys"),
    path(
        "partner-keys/<int:partner_key_id>",
        apis.PartnerKeyDetailApi.as_view(),
        name="api-partner-key",
    ),
    path(
        "partner-keys/<int:partner_key_id>/rotate",
        apis.PartnerKeyRotateApi.as_view(),
        name="api-partner-key-rotate",
    ),
    path("smart-links", apis_smart_links.SmartLinkListCreateApi.as_view(), name="api-smart-links"),
    path(
        "smart-links/<int:smart_link_id>",
        apis_smart_links.SmartLinkDetailApi.as_view(),
        name="api-smart-link",
    ),
]
