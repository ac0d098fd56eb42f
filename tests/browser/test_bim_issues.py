"""The viewer's compare panel in Chromium: another bid's model against the shown one, coloured in the
viewer and listed under the bids' labels; the issue panel reads the (empty) list before the review."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_bim_viewer import open_viewer


def test_the_reviewer_compares_two_bids_models_coloured_and_listed_by_label(page, demo_server):
    open_viewer(page, demo_server, "reviewer_wu")
    # Before the review nobody raises issues; the reviewer still reads the (empty) list.
    expect(page.locator("#issues")).to_contain_text("此模型暂无问题")
    expect(page.locator("#issues form.issue-new")).to_have_count(0)

    other = page.evaluate(
        "() => [...document.querySelectorAll('#compare select option')].find((o) => o.text.startsWith('C')).value"
    )
    page.locator("#compare select").select_option(other)
    page.locator("#compare").get_by_role("button", name="与当前模型对比").click()

    summary = page.locator("#compare .compare-result p").first
    expect(summary).to_contain_text("C → A", timeout=30_000)
    # Two bids' models share no element: every element of the shown one is new, and coloured.
    added = page.locator("#compare .compare-added")
    assert added.count() > 50
    assert page.evaluate("window.bimViewer.view.colours.size") == added.count()
    # The result names the bids by their labels only, whatever the page may show elsewhere.
    assert "有限公司" not in page.locator("#compare .compare-result").inner_text()
