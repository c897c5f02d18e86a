import factory
from django.utils import timezone

from campaigns.tests.factories import TrackingLinkFactory
from core import tokens
from tracker.models import Click


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    link = factory.SubFactory(TrackingLinkFactory)
    affiliate = factory.SelfAttribute("link.affiliate")
    campaign = factory.SelfAttribute("link.campaign")
    click_id = factory.LazyFunction(tokens.new_click_id)
    created_at = factory.LazyFunction(timezone.now)
    ip = "203.0.113.10"
    user_agent = "Mozilla/5.0 (test)"
