"""`POST /api/partner-keys/<id>/sandbox`: the key's owner tries a postback; nothing is recorded."""

import pytest

from tracker.models import Conversion, PostbackLog
from tracker.tests.factories import ClickFactory


@pytest.mark.django_db
def test_the_owner_tries_a_pasted_postback_url_and_nothing_is_recorded(net):
    click = ClickFactory(link=net.link1)
    client = net.client_as("advertiser1")
    url = f"https://partner.example/cb?click_id={click.click_id}&payout=5.00&status=pending"

    response = client.post(f"/api/partner-keys/{net.key1.pk}/sandbox", {"url": url}, format="json")

    body = response.json()
    assert response.status_code == 200, body
    assert (body["result"], body["http_status"], body["error"]) == ("created", 200, None)
    assert (body["conversion"]["status"], body["conversion"]["revenue"]) == ("pending", "5.0000")
    assert (Conversion.objects.count(), PostbackLog.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_refusal_is_answered_as_the_real_postback_would_answer_it(net):
    client = net.client_as("advertiser1")

    response = client.post(
        f"/api/partner-keys/{net.key1.pk}/sandbox",
        {"params": {"click_id": "no-such-click"}},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert body["http_status"] == 404
    assert body["error"] == {"code": "click_not_found", "message": "Click not found.", "fields": {}}


@pytest.mark.django_db
def test_without_parameters_the_sandbox_says_what_is_missing(net):
    client = net.client_as("advertiser1")

    response = client.post(f"/api/partner-keys/{net.key1.pk}/sandbox", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "missing_params"


@pytest.mark.django_db
def test_another_advertisers_key_is_not_found(net):
    client = net.client_as("advertiser2")

    response = client.post(
        f"/api/partner-keys/{net.key1.pk}/sandbox",
        {"params": {"click_id": "x"}},
        format="json",
    )

    assert response.status_code == 404
