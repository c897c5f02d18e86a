from django.urls import path

from portal.views import (
    advertiser,
    advertiser_invoices,
    advertiser_pricing,
    advertiser_reconciliations,
    affiliate,
    api_keys,
    payout_methods,
    shared,
    smart_links,
    tester,
    two_factor,
)

app_name = "portal"

urlpatterns = [
    path("", shared.home, name="home"),
    path("login/", shared.PortalLoginView.as_view(), name="login"),
    path("login/code/", shared.login_code, name="login-code"),
    path("logout/", shared.PortalLogoutView.as_view(), name="logout"),
    path("signup/", shared.signup, name="signup"),
    path("pending/", shared.pending, name="pending"),
    path("profile/", shared.profile, name="profile"),
    path("two-factor/", two_factor.two_factor, name="two-factor"),
    # Advertiser portal
    path("advertiser/", advertiser.dashboard, name="advertiser-dashboard"),
    path("advertiser/reports/", advertiser.report, name="advertiser-report"),
    path("advertiser/campaigns/", advertiser.campaign_list, name="advertiser-campaigns"),
    path(
        "advertiser/campaigns/new/",
        advertiser.campaign_create,
        name="advertiser-campaign-create",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/",
        advertiser.campaign_edit,
        name="advertiser-campaign-edit",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/status/",
        advertiser.campaign_status,
        name="advertiser-campaign-status",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/landing-pages/",
        advertiser.campaign_landing_page_create,
        name="advertiser-landing-page-create",
    ),
    path(
        "advertiser/landing-pages/<int:landing_page_id>/",
        advertiser.landing_page_edit,
        name="advertiser-landing-page-edit",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/invite/",
        advertiser.campaign_invite,
        name="advertiser-campaign-invite",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/events/new/",
        advertiser_pricing.event_new,
        name="advertiser-event-create",
    ),
    path(
        "advertiser/events/<int:event_id>/",
        advertiser_pricing.event_edit,
        name="advertiser-event-edit",
    ),
    path(
        "advertiser/events/<int:event_id>/delete/",
        advertiser_pricing.event_remove,
        name="advertiser-event-delete",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/pricing-rules/",
        advertiser_pricing.pricing_rule_list,
        name="advertiser-pricing-rules",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/pricing-rules/new/",
        advertiser_pricing.pricing_rule_new,
        name="advertiser-pricing-rule-create",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/pricing-rules/import/",
        advertiser_pricing.pricing_rule_import,
        name="advertiser-pricing-rule-import",
    ),
    path(
        "advertiser/campaigns/<int:campaign_id>/pricing-rules/template.csv",
        advertiser_pricing.pricing_rule_template,
        name="advertiser-pricing-rule-template",
    ),
    path(
        "advertiser/pricing-rules/<int:rule_id>/",
        advertiser_pricing.pricing_rule_edit,
        name="advertiser-pricing-rule-edit",
    ),
    path(
        "advertiser/pricing-rules/<int:rule_id>/delete/",
        advertiser_pricing.pricing_rule_remove,
        name="advertiser-pricing-rule-delete",
    ),
    path("advertiser/applications/", advertiser.application_list, name="advertiser-applications"),
    path(
        "advertiser/applications/<int:access_id>/decide/",
        advertiser.application_decide,
        name="advertiser-application-decide",
    ),
    path("advertiser/partner-keys/", advertiser.partner_key_list, name="advertiser-partner-keys"),
    path(
        "advertiser/partner-keys/<int:partner_key_id>/",
        advertiser.partner_key_edit,
        name="advertiser-partner-key-edit",
    ),
    path(
        "advertiser/partner-keys/<int:partner_key_id>/rotate/",
        advertiser.partner_key_rotate_view,
        name="advertiser-partner-key-rotate",
    ),
    path(
        "advertiser/partner-keys/<int:partner_key_id>/test/",
        tester.postback_tester,
        name="advertiser-partner-key-test",
    ),
    path(
        "advertiser/conversions/",
        advertiser.conversion_list_view,
        name="advertiser-conversions",
    ),
    path(
        "advertiser/conversions/<int:conversion_id>/",
        advertiser.conversion_detail,
        name="advertiser-conversion",
    ),
    path("advertiser/invoices/", advertiser_invoices.invoice_list_view, name="advertiser-invoices"),
    path(
        "advertiser/invoices/<int:invoice_id>/",
        advertiser_invoices.invoice_detail,
        name="advertiser-invoice",
    ),
    path(
        "advertiser/invoices/<int:invoice_id>/print/",
        advertiser_invoices.invoice_print,
        name="advertiser-invoice-print",
    ),
    path(
        "advertiser/invoices/<int:invoice_id>.csv",
        advertiser_invoices.invoice_csv_view,
        name="advertiser-invoice-csv",
    ),
    path("advertiser/api-keys/", api_keys.advertiser_api_keys, name="advertiser-api-keys"),
    path(
        "advertiser/api-keys/<int:api_key_id>/revoke/",
        api_keys.advertiser_api_key_revoke,
        name="advertiser-api-key-revoke",
    ),
    # Affiliate portal
    path("affiliate/", affiliate.dashboard, name="affiliate-dashboard"),
    path("affiliate/reports/", affiliate.report, name="affiliate-report"),
    path("affiliate/campaigns/", affiliate.campaign_list, name="affiliate-campaigns"),
    path(
        "affiliate/campaigns/<int:campaign_id>/",
        affiliate.campaign_detail,
        name="affiliate-campaign",
    ),
    path(
        "affiliate/campaigns/<int:campaign_id>/apply/",
        affiliate.campaign_apply,
        name="affiliate-campaign-apply",
    ),
    path(
        "affiliate/campaigns/<int:campaign_id>/link/",
        affiliate.campaign_link,
        name="affiliate-campaign-link",
    ),
    path("affiliate/links/", affiliate.link_list, name="affiliate-links"),
    path("affiliate/links/<int:link_id>/", affiliate.link_detail, name="affiliate-link"),
    path("affiliate/smart-links/", smart_links.smart_link_list, name="affiliate-smart-links"),
    path(
        "affiliate/smart-links/<int:smart_link_id>/",
        smart_links.smart_link_edit,
        name="affiliate-smart-link-edit",
    ),
    path(
        "affiliate/smart-links/<int:smart_link_id>/deactivate/",
        smart_links.smart_link_deactivate_view,
        name="affiliate-smart-link-deactivate",
    ),
    path("affiliate/endpoints/", affiliate.endpoint_list_view, name="affiliate-endpoints"),
    path(
        "affiliate/endpoints/<int:endpoint_id>/",
        affiliate.endpoint_edit,
        name="affiliate-endpoint-edit",
    ),
    path(
        "affiliate/endpoints/<int:endpoint_id>/delete/",
        affiliate.endpoint_delete,
        name="affiliate-endpoint-delete",
    ),
    path(
        "affiliate/endpoints/<int:endpoint_id>/rotate/",
        affiliate.endpoint_rotate,
        name="affiliate-endpoint-rotate",
    ),
    path(
        "affiliate/endpoints/<int:endpoint_id>/test/",
        affiliate.endpoint_test,
        name="affiliate-endpoint-test",
    ),
    path(
        "affiliate/endpoints/<int:endpoint_id>/tests/<int:delivery_id>/",
        affiliate.endpoint_test_result,
        name="affiliate-endpoint-test-result",
    ),
    path("affiliate/deliveries/", affiliate.delivery_list_view, name="affiliate-deliveries"),
    path(
        "affiliate/deliveries/<int:delivery_id>/replay/",
        affiliate.delivery_replay,
        name="affiliate-delivery-replay",
    ),
    path("affiliate/conversions/", affiliate.conversion_list_view, name="affiliate-conversions"),
    path("affiliate/payouts/", affiliate.payouts, name="affiliate-payouts"),
    path(
        "affiliate/payout-methods/",
        payout_methods.payout_method_list_view,
        name="affiliate-payout-methods",
    ),
    path(
        "affiliate/payout-methods/new/<str:kind>/",
        payout_methods.payout_method_add,
        name="affiliate-payout-method-add",
    ),
    path(
        "affiliate/payout-methods/<int:payout_method_id>/",
        payout_methods.payout_method_edit,
        name="affiliate-payout-method-edit",
    ),
    path(
        "affiliate/payout-methods/<int:payout_method_id>/remove/",
        payout_methods.payout_method_remove,
        name="affiliate-payout-method-remove",
    ),
    path(
        "affiliate/payouts/statement/<str:currency>.csv",
        affiliate.statement,
        name="affiliate-statement",
    ),
    path("affiliate/points/", affiliate.points, name="affiliate-points"),
    path("affiliate/api-keys/", api_keys.affiliate_api_keys, name="affiliate-api-keys"),
    path(
        "affiliate/api-keys/<int:api_key_id>/revoke/",
        api_keys.affiliate_api_key_revoke,
        name="affiliate-api-key-revoke",
    ),
]

urlpatterns += [
    path(
        "advertiser/reconciliations/",
        advertiser_reconciliations.reconciliation_list,
        name="advertiser-reconciliations",
    ),
    path(
        "advertiser/reconciliations/<int:reconciliation_id>/",
        advertiser_reconciliations.reconciliation_detail,
        name="advertiser-reconciliation",
    ),
    path(
        "advertiser/reconciliations/<int:reconciliation_id>/result.csv",
        advertiser_reconciliations.reconciliation_result,
        name="advertiser-reconciliation-result",
    ),
]
