"""Every portal page, and the console's index, at a phone's width and at a desktop's.

The page may never be wider than the window (a wide table scrolls inside its own box, the page
itself never sideways), every table sits in such a box, and each page passes the accessibility
basics (a11y.py). The pages and their data are `portal.tests.pages.demo_world()`: the demo
network, with long names, URLs and four-figure amounts. Screenshots of every page at both widths
go to artifacts/browser/test_every_page_fits_the_window[<width>]/.
"""

import pytest
from playwright.sync_api import Browser, Page

from portal.tests.browser.support import log_in
from portal.tests.pages import PortalPage, demo_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
ROLES = ("anonymous", "pending", "advertiser", "affiliate", "admin")

# How wide the page is against the window, and the tables that no sideways-scrolling box holds.
_LAYOUT = """
() => {
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const boxed = (table) => {
    for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
      if (scrolls(el)) { return true; }
    }
    return false;
  };
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    unboxedTables: [...document.querySelectorAll("main#main table, .console table")]
      .filter((table) => !boxed(table)).length,
  };
}
"""

# A POST as the page's own form would send it (CSRF token included), answered in the window.
_SUBMIT = """
([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}
"""


def _open(page: Page, portal_page: PortalPage) -> int:
    """Show the page in the window; the HTTP status of the page shown (after any redirect)."""
    if portal_page.form is None:
        return page.goto(portal_page.path).status
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    fields = [["csrfmiddlewaretoken", csrf]]
    for name, value in portal_page.form.items():
        fields += [[name, item] for item in value] if isinstance(value, list) else [[name, value]]
    with page.expect_navigation() as navigation:
        page.evaluate(_SUBMIT, [portal_page.path, fields])
    return navigation.value.status


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(width, browser: Browser, live_server, screens):
    world = demo_world()

    too_wide, unboxed, statuses = {}, {}, {}
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto("/portal/login/")  # the CSRF cookie a first form needs
        if role != "anonymous":
            log_in(page, *world.logins[role])
        for portal_page in world.pages_of(role):
            statuses[portal_page.name] = _open(page, portal_page)
            layout = page.evaluate(_LAYOUT)
            screens.take(page, portal_page.name)
            if layout["scrollWidth"] > layout["innerWidth"]:
                too_wide[portal_page.name] = layout["scrollWidth"]
            if layout["unboxedTables"]:
                unboxed[portal_page.name] = layout["unboxedTables"]
        context.close()

    assert too_wide == {}
    assert unboxed == {}
    assert set(statuses) == {portal_page.name for portal_page in world.pages}
    assert {name: status for name, status in statuses.items() if status != 200} == {}
    print(f"Screenshots: {screens.folder}")
