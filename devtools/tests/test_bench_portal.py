"""`manage.py bench_portal` on a tiny demo dataset: it requests every page, prints one line
each with PASS or FAIL, and fails the run under --strict when a page is over the target."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from devtools.management.commands.bench_portal import bench_pages, bench_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", clicks=200, seed=21, verbosity=0, stdout=StringIO())


def test_it_times_every_page_and_prints_a_line_each(demo):
    out = StringIO()

    call_command("bench_portal", requests=2, target_ms=60_000, stdout=out)

    pages = bench_pages(bench_users())
    lines = out.getvalue().splitlines()
    table = [line for line in lines if line.split("  ")[0].strip() in {p.name for p in pages}]
    assert len(table) == len(pages)
    assert {line.split()[-2] for line in table if "(download" not in line} == {"PASS"}
    for page in pages:
        assert any(line.startswith(page.name) and page.path in line for line in table), page
    assert lines[-1].startswith(f"{len(pages)} of {len(pages)} page(s) within 60000 ms at p95.")
    names = {page.name for page in pages}
    assert {"adv dashboard 30 d", "aff conversions csv", "admin index", "aff profile"} <= names


def test_strict_fails_the_run_when_a_page_is_over_the_target(demo):
    out = StringIO()

    with pytest.raises(CommandError, match=r"^2 page\(s\) over 0.001 ms at p95\.$") as error:
        call_command(
            "bench_portal",
            requests=1,
            only="dashboard 30",
            target_ms=0.001,
            strict=True,
            stdout=out,
        )

    assert error.value.returncode == 1
    table = out.getvalue().splitlines()[2:4]
    assert [line.split()[:3] for line in table] == [
        ["adv", "dashboard", "30"],
        ["aff", "dashboard", "30"],
    ]
    assert all(" FAIL " in line for line in table)


def test_without_strict_a_failing_page_is_reported_not_raised(demo):
    out = StringIO()

    call_command("bench_portal", requests=1, only="admin index", target_ms=0.001, stdout=out)

    assert (
        out.getvalue().splitlines()[-1].startswith("0 of 1 page(s) within 0.001 ms at p95; 1 FAIL.")
    )


def test_it_says_how_to_create_the_demo_data_when_there_is_none():
    with pytest.raises(CommandError) as error:
        call_command("bench_portal", requests=1, stdout=StringIO())

    assert "run `python manage.py seed_demo --clicks 1000000` first" in str(error.value)
    assert "or pass --seed-clicks N" in str(error.value)


def test_seed_clicks_creates_the_demo_data_first():
    out = StringIO()

    call_command(
        "bench_portal",
        requests=1,
        seed_clicks=50,
        only="admin index",
        target_ms=60_000,
        stdout=out,
    )

    assert User.objects.filter(email="admin@clickledger.local").exists()
    assert "Added 50 clicks" in out.getvalue()
    assert "1 of 1 page(s) within 60000 ms at p95." in out.getvalue()
