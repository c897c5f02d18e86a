from django.urls import path

from payouts import apis, exchange_rate_apis, invoice_apis

urlpatterns = [
    path("balance", apis.BalanceApi.as_view(), name="balance"),
    path("payouts", apis.PayoutListCreateApi.as_view(), name="payout-list"),
    path("payouts/export.csv", apis.PayoutExportApi.as_view(), name="payout-export"),
    path("payouts/<int:payout_id>", apis.PayoutDetailApi.as_view(), name="payout-detail"),
    # The first API clients' path and the resource-style one: the same endpoint.
    path(
        "payouts/approve/<int:payout_id>",
        apis.PayoutApproveLegacyPathApi.as_view(),
        name="payout-approve-legacy",
    ),
    path("payouts/<int:payout_id>/approve", apis.PayoutApproveApi.as_view(), name="payout-approve"),
    path("payouts/<int:payout_id>/reject", apis.PayoutRejectApi.as_view(), name="payout-reject"),
    path(
        "payouts/<int:payout_id>/mark-paid",
        apis.PayoutMarkPaidApi.as_view(),
        name="payout-mark-paid",
    ),
    path(
        "exchange-rates",
        exchange_rate_apis.ExchangeRateListCreateApi.as_view(),
        name="exchange-rate-list",
    ),
    path("payout-methods", apis.PayoutMethodListCreateApi.as_view(), name="payout-method-list"),
    path(
        "payout-methods/<int:payout_method_id>",
        apis.PayoutMethodDetailApi.as_view(),
        name="payout-method-detail",
    ),
    path("adjustments", apis.AdjustmentListCreateApi.as_view(), name="adjustment-list"),
    path("statement.csv", apis.StatementExportApi.as_view(), name="statement-export"),
    path("invoices", invoice_apis.InvoiceListCreateApi.as_view(), name="invoice-list"),
    path(
        "invoices/<int:invoice_id>", invoice_apis.InvoiceDetailApi.as_view(), name="invoice-detail"
    ),
    path("invoices/<int:invoice_id>.csv", invoice_apis.InvoiceCsvApi.as_view(), name="invoice-csv"),
    path(
        "invoices/<int:invoice_id>/lines",
        invoice_apis.InvoiceLineCreateApi.as_view(),
        name="invoice-line-create",
    ),
    path(
        "invoices/<int:invoice_id>/issue",
        invoice_apis.InvoiceIssueApi.as_view(),
        name="invoice-issue",
    ),
    path(
        "invoices/<int:invoice_id>/payments",
        invoice_apis.InvoicePaymentCreateApi.as_view(),
        name="invoice-payment-create",
    ),
]
