"""What the browser tests share besides fixtures: screenshots with the a11y check, logging in."""

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from portal.tests.browser.a11y import a11y_check


@dataclass
class Screens:
    """Full-page screenshots numbered in the order taken, each after the page's a11y check."""

    folder: Path
    taken: int = 0

    def take(self, page: Page, name: str) -> Path:
        page.wait_for_load_state("load")
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{name}.png"
        # The picture first: the accessibility check moves the keyboard focus.
        page.screenshot(path=path, full_page=True)
        a11y_check(page)
        return path


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/portal/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def stats(page: Page) -> dict[str, str]:
    """The dashboard's stat tiles as label -> value (with its note, when it has one)."""
    page.wait_for_load_state("load")
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(".stat")].map((tile) => {
            const note = tile.querySelector(".stat-note");
            const value = tile.querySelector(".stat-value").textContent.trim();
            return [tile.querySelector(".stat-label").textContent.trim(),
                    note ? `${value} (${note.textContent.trim()})` : value];
        }))"""
    )


def table_rows(page: Page, selector: str = "table") -> list[list[str]]:
    """The body rows of the first table matching `selector`, each cell's text as rendered
    (innerText: after the stylesheet applied, so status badges read capitalized)."""
    page.wait_for_load_state("load")
    return page.locator(selector).first.evaluate(
        """(table) => [...table.tBodies[0].rows].map(
            (row) => [...row.cells].map((cell) => cell.innerText.trim().replace(/\\s+/g, " ")))"""
    )


def chart_point(page: Page, chart_id: str, title: str) -> dict[str, str] | None:
    """Centre of the dot titled `title` ("<day>: <series> <value>") in a dashboard chart."""
    page.wait_for_load_state("load")
    return page.evaluate(
        """([chartId, title]) => {
            const chart = document.querySelector(`svg[aria-labelledby="chart-title-${chartId}"]`);
            const dot = [...chart.querySelectorAll("circle")].find(
                (circle) => circle.querySelector("title").textContent === title);
            return dot ? {cx: dot.getAttribute("cx"), cy: dot.getAttribute("cy")} : null;
        }""",
        [chart_id, title],
    )
