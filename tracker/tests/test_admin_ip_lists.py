"""The console's IP list pages: upload (new and replacing), refusals naming the bad lines,
deletion through the service, and who may upload."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory, StaffUserFactory
from core.models import AuditEntry
from tracker.ip_lists import ip_is_listed
from tracker.models import IpList, IpRange

pytestmark = pytest.mark.django_db


def _upload(client, text: str, **fields):
    data = {
        "kind": "deny",
        "name": "abuse",
        "file": SimpleUploadedFile("abuse.txt", text.encode()),
        **fields,
    }
    return client.post(reverse("admin:tracker_iplist_add"), data)


@pytest.fixture
def console(client):
    client.force_login(AdminUserFactory())
    return client


def test_the_upload_page_renders(console):
    response = console.get(reverse("admin:tracker_iplist_add"))

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content


def test_uploading_loads_the_list_and_audits_it(console):
    response = _upload(console, "203.0.113.0/24\n203.0.113.128/25\n")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:tracker_iplist_changelist")
    ip_list = IpList.objects.get()
    assert (ip_list.kind, ip_list.name, ip_list.source) == ("deny", "abuse", "abuse.txt")
    assert (ip_list.entry_count, ip_list.range_count) == (2, 1)
    assert ip_is_listed(kind="deny", ip="203.0.113.9") is True
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Deny list: abuse: 2 entries in 1 ranges loaded."
    ]
    entry = AuditEntry.objects.get()
    assert (entry.source, entry.action, entry.object_type) == ("console", "load", "tracker.iplist")


def test_a_file_with_bad_lines_is_refused_with_their_numbers(console):
    response = _upload(console, "203.0.113.0/24\nbogus\n")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "1 unusable line(s); nothing was loaded.",
        "line 2: 'bogus': 'bogus' does not appear to be an IPv4 or IPv6 network",
    ]
    assert IpList.objects.count() == 0


def test_skipping_bad_lines_loads_the_rest_and_says_which(console):
    response = _upload(console, "203.0.113.0/24\nbogus\n", skip_invalid="on")

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Deny list: abuse: 1 entries in 1 ranges loaded.",
        "1 line(s) skipped: line 2: 'bogus'",
    ]


def test_a_file_over_the_size_limit_is_refused(console, settings):
    settings.IP_LIST_MAX_BYTES = 10

    response = _upload(console, "203.0.113.0/24\n10.0.0.0/8\n")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The file is 26 bytes; at most 10."]


def test_deleting_a_list_from_the_console_empties_its_union(console):
    _upload(console, "203.0.113.0/24\n")
    ip_list = IpList.objects.get()

    response = console.post(
        reverse("admin:tracker_iplist_delete", args=[ip_list.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert (IpList.objects.count(), IpRange.objects.count()) == (0, 0)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "load",
        "delete",
    ]


def test_staff_without_the_permission_cannot_upload(client):
    client.force_login(StaffUserFactory())

    response = _upload(client, "203.0.113.0/24\n")

    assert response.status_code == 403
    assert IpList.objects.count() == 0
