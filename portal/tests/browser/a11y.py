"""Accessibility basics checked on every page a browser test visits.

Three checks, each run in the page itself (computed styles, the real DOM after scripts ran):
every visible form control has an accessible name from a label or ARIA; there is exactly one h1
and heading levels never skip going down; the first elements reached with Tab show a visible
focus indicator (an outline or a box shadow that the unfocused element does not have).
"""

from itertools import pairwise

from playwright.sync_api import Page

FOCUS_STOPS = 5

_UNLABELLED_CONTROLS = """
() => {
  const skipped = new Set(["hidden", "submit", "button", "reset", "image"]);
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  // A label's text, or the alt text of an icon standing for it (the admin's search box).
  const text = (el) => (el ? el.textContent.trim()
    || [...el.querySelectorAll("img[alt]")].map((img) => img.alt.trim()).join("") : "");
  const named = (el) => {
    if ([...el.labels].some((label) => text(label))) { return true; }
    if ((el.getAttribute("aria-label") || "").trim()) { return true; }
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    return ids.some((id) => text(document.getElementById(id)));
  };
  return [...document.querySelectorAll("input, select, textarea")]
    .filter((el) => !skipped.has((el.getAttribute("type") || "").toLowerCase()))
    .filter(visible)
    .filter((el) => !named(el))
    .map((el) => `${el.tagName.toLowerCase()}[name=${el.name || ""}][id=${el.id || ""}]`);
}
"""

_HEADINGS = """
() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(
  (el) => [Number(el.tagName[1]), el.textContent.trim().replace(/\\s+/g, " ").slice(0, 60)]
)
"""

# Remember each focusable element's look before anything has focus; after each Tab the focused
# element's look is compared with it.
_FOCUS_BASELINE = """
() => {
  if (document.activeElement && document.activeElement !== document.body) {
    document.activeElement.blur();
  }
  const look = (el) => {
    const style = getComputedStyle(el);
    return [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join("|");
  };
  window.__a11yLook = look;
  window.__a11yBefore = new Map();
  const focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
  for (const el of document.querySelectorAll(focusable)) {
    window.__a11yBefore.set(el, look(el));
  }
}
"""

_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  const before = window.__a11yBefore.get(el);
  const name = (el.textContent || el.name || el.id).trim().slice(0, 40);
  return {
    element: `${el.tagName.toLowerCase()} "${name}"`,
    indicated: (outline || shadow) && before !== undefined && before !== window.__a11yLook(el),
  };
}
"""


def unlabelled_controls(page: Page) -> list[str]:
    return page.evaluate(_UNLABELLED_CONTROLS)


def heading_problems(page: Page) -> list[str]:
    """Why the page's heading outline is wrong: not exactly one h1, or a level skipped."""
    headings = page.evaluate(_HEADINGS)
    problems = []
    h1_count = sum(1 for level, _ in headings if level == 1)
    if h1_count != 1:
        problems.append(f"{h1_count} h1 elements")
    if headings and headings[0][0] != 1:
        problems.append(f"first heading is h{headings[0][0]} {headings[0][1]!r}")
    for (previous, _), (level, title) in pairwise(headings):
        if level > previous + 1:
            problems.append(f"h{previous} followed by h{level} {title!r}")
    return problems


def focus_not_visible(page: Page, stops: int = FOCUS_STOPS) -> list[str]:
    """The first `stops` elements reached with Tab that show no focus indicator."""
    page.evaluate(_FOCUS_BASELINE)
    missing = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            break
        if not focused["indicated"]:
            missing.append(focused["element"])
    return missing


def a11y_check(page: Page) -> None:
    """Assert the three basics on the page as it is now; leaves the keyboard focus moved."""
    problems = {
        "controls without a label": unlabelled_controls(page),
        "heading outline": heading_problems(page),
        "focus not visible": focus_not_visible(page),
    }
    found = {name: items for name, items in problems.items() if items}
    assert not found, f"{page.url}: {found}"
