"""Portal test helpers: a logged-in Django test client per role of the test network
(`campaigns.tests.factories.network()`), and the portal's page URLs."""

from django.test import Client

from campaigns.tests.factories import Network

ADVERTISER_PAGES = [
    "/portal/advertiser/",
    "/portal/advertiser/reports/",
    "/portal/advertiser/campaigns/",
    "/portal/advertiser/campaigns/new/",
    "/portal/advertiser/applications/",
    "/portal/advertiser/partner-keys/",
    "/portal/advertiser/conversions/",
    "/portal/advertiser/reconciliations/",
]
AFFILIATE_PAGES = [
    "/portal/affiliate/",
    "/portal/affiliate/reports/",
    "/portal/affiliate/campaigns/",
    "/portal/affiliate/links/",
    "/portal/affiliate/smart-links/",
    "/portal/affiliate/endpoints/",
    "/portal/affiliate/deliveries/",
    "/portal/affiliate/conversions/",
    "/portal/affiliate/payouts/",
    "/portal/affiliate/payout-methods/",
    "/portal/affiliate/payout-methods/new/bank/",
    "/portal/affiliate/points/",
]


def portal_client(net: Network, role: str) -> Client:
    client = Client()
    user = net.user(role)
    if user is not None:
        client.force_login(user)
    return client
