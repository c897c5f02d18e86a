"""Login, logout, signup (pending until approved) and password reset by email."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Advertiser, Affiliate, ApprovalStatus, User
from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_has_labelled_inputs():
    response = Client().get("/portal/login/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Email:</label>' in html
    assert '<label for="id_password">Password:</label>' in html
    assert 'href="/portal/auth/password_reset/"' in html


def test_login_with_any_letter_case_goes_to_the_portal():
    affiliate = AffiliateFactory(user__email="mixed@example.test")
    client = Client()

    response = client.post(
        "/portal/login/", {"username": "Mixed@Example.TEST", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert client.get("/portal/")["Location"] == "/portal/affiliate/"
    assert int(client.session["_auth_user_id"]) == affiliate.user_id


def test_login_with_a_wrong_password_says_so():
    AffiliateFactory(user__email="someone@example.test")

    response = Client().post(
        "/portal/login/", {"username": "someone@example.test", "password": "wrong"}
    )

    assert response.status_code == 200
    assert b"Please enter a correct email and password." in response.content


def test_logout_is_a_post_that_ends_the_session():
    affiliate = AffiliateFactory()
    client = Client()
    client.force_login(affiliate.user)

    response = client.post("/portal/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"
    assert "_auth_user_id" not in client.session


def test_signup_creates_a_pending_advertiser_and_shows_the_pending_page():
    client = Client()

    response = client.post(
        "/portal/signup/",
        {
            "role": "advertiser",
            "name": "Ada Shop",
            "company": "Ada Ltd",
            "email": "Ada@Shop.test",
            "password": "a-long-unusual-pass-123",
            "password_again": "a-long-unusual-pass-123",
        },
        follow=True,
    )

    user = User.objects.get(email="ada@shop.test")
    assert response.redirect_chain == [("/portal/pending/", 302)]
    assert b"Your account is waiting for approval" in response.content
    assert (user.role, user.name) == ("advertiser", "Ada Shop")
    advertiser = Advertiser.objects.get(user=user)
    assert (advertiser.company, advertiser.status) == ("Ada Ltd", ApprovalStatus.PENDING)
    assert client.get("/portal/advertiser/")["Location"] == "/portal/pending/"


def test_signup_shows_each_error_next_to_its_field():
    UserFactory(email="taken@example.test")

    weak = Client().post(
        "/portal/signup/",
        {
            "role": "affiliate",
            "name": "A",
            "email": "new@example.test",
            "password": "123",
            "password_again": "123",
        },
    )
    taken = Client().post(
        "/portal/signup/",
        {
            "role": "affiliate",
            "name": "A",
            "email": "taken@example.test",
            "password": "a-long-unusual-pass-123",
            "password_again": "a-long-unusual-pass-124",
        },
    )
    duplicate = Client().post(
        "/portal/signup/",
        {
            "role": "affiliate",
            "name": "A",
            "email": "taken@example.test",
            "password": "a-long-unusual-pass-123",
            "password_again": "a-long-unusual-pass-123",
        },
    )

    assert weak.context["form"].errors == {
        "password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    }
    assert taken.context["form"].errors == {"password_again": ["The two passwords differ."]}
    assert duplicate.context["form"].errors == {"email": ["Already registered."]}
    assert Affiliate.objects.count() == 0


def test_password_reset_emails_a_link_that_sets_a_new_password():
    affiliate = AffiliateFactory(user__email="forgot@example.test")
    client = Client()

    sent = client.post("/portal/auth/password_reset/", {"email": "forgot@example.test"})
    link = re.search(r"http://testserver(/portal/auth/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-987", "new_password2": "brand-new-pass-987"},
        follow=True,
    )

    assert sent.status_code == 302
    assert sent["Location"] == "/portal/auth/password_reset/done/"
    assert mail.outbox[0].subject == "Reset your ClickLedger password"
    assert mail.outbox[0].to == ["forgot@example.test"]
    assert b"Choose a new password" in form.content
    assert b"Your password has been set" in done.content
    affiliate.user.refresh_from_db()
    assert affiliate.user.check_password("brand-new-pass-987")


def test_login_locks_out_after_five_failures_like_the_api():
    AffiliateFactory(user__email="target@example.test")
    client = Client()

    codes = [
        client.post(
            "/portal/login/", {"username": "target@example.test", "password": "bad"}
        ).status_code
        for _ in range(5)
    ]
    right_password = client.post(
        "/portal/login/", {"username": "target@example.test", "password": DEFAULT_PASSWORD}
    )

    assert codes == [200, 200, 200, 200, 429]
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session
