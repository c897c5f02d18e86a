"""The table helper: it sorts by whitelisted columns only."""

import pytest
from django.test import RequestFactory

from campaigns.models import Campaign
from portal.tables import Column, Table


@pytest.mark.django_db
def test_table_sorts_by_whitelisted_columns_only():
    columns = [Column("Name", "name"), Column("Created", "created")]
    sorts = {"name": "name", "created": "id"}
    request = RequestFactory().get("/x", {"sort": "-name"})
    bogus = RequestFactory().get("/x", {"sort": "advertiser__user__password"})

    table = Table(
        request, Campaign.objects.all(), columns=columns, sorts=sorts, default_sort="-created"
    )
    fallback = Table(
        bogus, Campaign.objects.all(), columns=columns, sorts=sorts, default_sort="-created"
    )

    assert table.queryset.query.order_by == ("-name", "-pk")
    assert [(h.label, h.next_sort, h.aria_sort) for h in table.headers] == [
        ("Name", "name", "descending"),
        ("Created", "created", "none"),
    ]
    assert fallback.queryset.query.order_by == ("-id", "-pk")
