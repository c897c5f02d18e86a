"""The accessibility checks themselves: each finds what it looks for, on pages made for it."""

import pytest

from portal.tests.browser.a11y import focus_not_visible, heading_problems, unlabelled_controls

pytestmark = pytest.mark.browser

LABELLED = """
<h1>Form</h1>
<label for="a">Name</label><input id="a">
<label>Wrapped <select name="b"><option>1</option></select></label>
<input aria-label="Search" name="c">
<span id="d-label">Notes</span><textarea aria-labelledby="d-label" name="d"></textarea>
<label for="e"><img src="data:," alt="Find"></label><input id="e">
<input type="hidden" name="f"><input type="submit" value="Send">
<input name="g" style="display: none">
"""

UNLABELLED = """
<h1>Form</h1>
<input name="plain" placeholder="A placeholder is no label">
<label for="elsewhere">Label of nothing</label><select name="orphan" id="mine"></select>
<label for="empty"> </label><textarea id="empty" name="empty"></textarea>
"""


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_every_visible_control_needs_a_label(page):
    page.set_content(LABELLED)
    assert unlabelled_controls(page) == []

    page.set_content(UNLABELLED)
    assert unlabelled_controls(page) == [
        "input[name=plain][id=]",
        "select[name=orphan][id=mine]",
        "textarea[name=empty][id=empty]",
    ]


def test_one_h1_and_no_skipped_heading_level(page):
    page.set_content("<h1>A</h1><h2>B</h2><h3>C</h3><h2>D</h2><h3>E</h3>")
    assert heading_problems(page) == []

    page.set_content("<h2>Intro</h2><h1>A</h1><h3>Deep</h3><h1>Again</h1>")
    assert heading_problems(page) == [
        "2 h1 elements",
        "first heading is h2 'Intro'",
        "h1 followed by h3 'Deep'",
    ]

    page.set_content("<p>No headings</p>")
    assert heading_problems(page) == ["0 h1 elements"]


def test_keyboard_focus_must_show(page):
    page.set_content(
        "<style>a:focus-visible { outline: 2px solid orange }"
        " button:focus-visible { box-shadow: 0 0 0 3px blue; outline: none }</style>"
        "<a href='#x'>Link</a><button>Styled</button>"
    )
    assert focus_not_visible(page, stops=2) == []

    page.set_content(
        "<style>:focus { outline: none }</style><a href='#x'>Link</a><button>Bare</button>"
    )
    assert focus_not_visible(page, stops=2) == ['a "Link"', 'button "Bare"']
