from django.test import RequestFactory

from core.net import client_country, client_ip


def test_client_ip_ignores_forwarded_for_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_ip(request) == "10.0.0.5"


def test_client_ip_takes_the_address_the_trusted_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )

    assert client_ip(request) == "198.51.100.7"


def test_client_country_reads_the_configured_header_only(settings):
    settings.COUNTRY_HEADER = "CF-IPCountry"
    assert client_country(RequestFactory().get("/", HTTP_CF_IPCOUNTRY="de")) == "DE"
    assert client_country(RequestFactory().get("/", HTTP_CF_IPCOUNTRY="XX1")) == ""
    settings.COUNTRY_HEADER = ""
    assert client_country(RequestFactory().get("/", HTTP_CF_IPCOUNTRY="DE")) == ""
