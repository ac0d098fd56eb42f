"""The BIM viewer in Chromium (software WebGL): FZK-Haus loads, a click picks an element, a section
plane changes the picture, and the presenter's view reaches a follower through the room socket.

These tests use the demo's BD01 session (still scheduled: the host, the reviewer and the supervisor
see its models before the review). The seeded models convert when the viewer first lists them.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import log_in

BD01 = "杭州市第一中学教学楼扩建工程 教学楼土建及安装工程 评标"
FZK_HAUS = "A "  # bid A's model is FZK-Haus (evaluation/demo.py)
CONVERSION_MS = 90_000

# An element whose centre, seen from the fitted camera, shows that element itself (nothing in front).
FIND_PICKABLE = """(preferred) => {
  const v = window.bimViewer;
  const props = v.view.items;
  const ids = [...props.keys()];
  const order = ids.filter((g) => preferred.some((c) => (v.classOf?.(g) ?? "").startsWith(c))).concat(ids);
  for (const guid of order) {
    const p = v.screenPointOf(guid);
    const hit = p && v.pick(p.x, p.y);
    if (hit && hit.guid === guid) return { guid, x: p.x, y: p.y };
  }
  return null;
}"""

# The canvas's pixels, read back (it keeps its drawing buffer); DIFF is the share of pixels (0..1)
# that differ from those CAPTURE kept.
PIXELS = """() => {
  const canvas = document.getElementById("canvas");
  window.bimViewer.view.renderNow();
  const copy = document.createElement("canvas");
  copy.width = canvas.width;
  copy.height = canvas.height;
  copy.getContext("2d").drawImage(canvas, 0, 0);
  return copy.getContext("2d").getImageData(0, 0, copy.width, copy.height).data;
}"""
CAPTURE = f"() => {{ window.bimShot = ({PIXELS})(); }}"
DIFF = f"""() => {{
  const now = ({PIXELS})();
  const before = window.bimShot;
  let differ = 0;
  for (let i = 0; i < now.length; i += 4) {{
    let delta = 0;
    for (let c = 0; c < 3; c++) delta += Math.abs(now[i + c] - before[i + c]);
    if (delta > 30) differ++;
  }}
  return differ / (now.length / 4);
}}"""


def open_viewer(page, base_url: str, username: str) -> None:
    log_in(page, base_url, username)
    page.get_by_role("link", name=BD01).first.click()
    page.locator("#link-bim").click()
    expect(page.locator("#model-select option:checked")).to_contain_text(FZK_HAUS)
    expect(page.locator("#bim")).to_have_attribute("data-state", "ready", timeout=CONVERSION_MS)
    expect(page.locator("#bim")).to_have_attribute("data-panels", "ready")
    expect(page.locator("#share-status")).to_have_attribute("data-connection", "connected")


def test_the_viewer_loads_fzk_haus_and_a_click_on_an_element_shows_its_global_id(page, demo_server):
    open_viewer(page, demo_server, "reviewer_wu")
    assert page.evaluate("window.bimViewer.view.items.size") > 50  # FZK-Haus draws 80-odd products
    target = page.evaluate(FIND_PICKABLE, ["IfcWall", "IfcSlab", "IfcRoof"])
    assert target is not None
    page.mouse.click(target["x"], target["y"])
    expect(page.locator("#global-id")).to_have_text(target["guid"])
    expect(page.locator("#properties")).to_have_attribute("data-guid", target["guid"])
    # Repeated geometry is instanced and the rest merged: a handful of draw calls, not one per element.
    assert int(page.locator("#stats").get_attribute("data-calls")) <= 4

    # Only the picked element stays; the tree's box of its storey follows.
    page.locator("#isolate-selection").click()
    shown = page.evaluate("window.bimViewer.view.guids().filter((g) => !window.bimViewer.view.hidden.has(g))")
    assert shown == [target["guid"]]
    page.locator("#show-all").click()
    assert page.evaluate("window.bimViewer.view.hidden.size") == 0

    # A storey hidden from the tree hides its elements.
    page.locator('#tree .tree-row[data-class="IfcBuildingStorey"] input').first.uncheck()
    assert page.evaluate("window.bimViewer.view.hidden.size") > 0
    page.locator("#show-all").click()

    # Search by class, and the quantity table per class.
    page.locator("#search").fill("IfcWindow")
    expect(page.locator("#search-results li[data-guid]").first).to_contain_text("IfcWindow")
    expect(page.locator("#quantity-table tbody tr[data-class=IfcWindow]")).to_have_count(1)

    # A distance between two picked points.
    page.locator("#measure").click()
    page.mouse.click(target["x"], target["y"])
    page.mouse.click(target["x"] + 6, target["y"] + 4)
    expect(page.locator("#measure-result")).to_have_attribute("data-distance", re.compile(r"^\d+\.\d{3}$"))
    assert float(page.locator("#measure-result").get_attribute("data-distance")) > 0


def test_a_section_plane_changes_the_picture_and_clearing_it_restores_it(page, demo_server):
    open_viewer(page, demo_server, "host_wang")
    page.evaluate(CAPTURE)
    page.locator("#section-z").click()
    expect(page.locator("#sections .section")).to_have_count(1)
    assert page.evaluate(DIFF) > 0.02
    page.locator("#section-clear").click()
    expect(page.locator("#sections .section")).to_have_count(0)
    assert page.evaluate(DIFF) < 0.001
    page.locator("#xray").click()
    assert page.evaluate(DIFF) > 0.02


def test_the_presenter_s_viewpoint_reaches_a_follower_who_may_stop_and_come_back(new_page, demo_server):
    wu, zheng = new_page(), new_page()
    open_viewer(wu, demo_server, "reviewer_wu")
    open_viewer(zheng, demo_server, "supervisor_zheng")
    expect(zheng.locator("#present")).to_be_hidden()  # the supervisor only watches

    wu.locator("#present").click()
    expect(wu.locator("#share-status")).to_have_attribute("data-mode", "presenting")
    wu.locator("#section-x").click()
    target = wu.evaluate(FIND_PICKABLE, ["IfcWall"])
    wu.mouse.click(target["x"], target["y"])
    expect(zheng.locator("#share-status")).to_have_attribute("data-mode", "following")
    expect(zheng.locator("#share-status")).to_contain_text("吴审查")
    expect(zheng.locator("#global-id")).to_have_text(target["guid"])
    expect(zheng.locator("#sections .section")).to_have_count(1)
    presenter = wu.evaluate("window.bimViewer.getViewpoint()")
    follower = zheng.evaluate("window.bimViewer.getViewpoint()")
    assert follower["clipping_planes"] == presenter["clipping_planes"]
    for key in ("position", "direction"):
        assert all(abs(a - b) < 1e-3 for a, b in zip(follower["camera"][key], presenter["camera"][key], strict=True))

    # The supervisor stops following: the presenter's next change does not reach them...
    zheng.locator("#follow").click()
    expect(zheng.locator("#share-status")).to_have_attribute("data-mode", "free")
    wu.locator("#section-clear").click()
    zheng.wait_for_timeout(500)
    expect(zheng.locator("#sections .section")).to_have_count(1)
    # ...until they follow again and get the presenter's current view at once.
    zheng.locator("#follow").click()
    expect(zheng.locator("#sections .section")).to_have_count(0)
    expect(zheng.locator("#share-status")).to_have_attribute("data-mode", "following")


def test_a_mostly_hidden_view_is_sent_as_the_shown_few_and_one_too_large_is_held_back_with_a_reason(
    new_page, demo_server
):
    wu, zheng = new_page(), new_page()
    open_viewer(wu, demo_server, "reviewer_wu")
    open_viewer(zheng, demo_server, "supervisor_zheng")
    wu.locator("#present").click()
    expect(wu.locator("#share-status")).to_have_attribute("data-mode", "presenting")
    # Duplex (bid B): 215 elements, enough for a view over the room's 8 KiB frame limit.
    duplex = wu.evaluate(
        "() => [...document.querySelectorAll('#model-select option')].find((o) => o.text.startsWith('B')).value"
    )
    wu.locator("#model-select").select_option(duplex)
    for page in (wu, zheng):
        expect(page.locator("#bim")).to_have_attribute("data-model", duplex, timeout=CONVERSION_MS)
        expect(page.locator("#bim")).to_have_attribute("data-state", "ready", timeout=CONVERSION_MS)

    # One element isolated: BCF's visibility model lists the one shown, not the 214 hidden.
    target = wu.evaluate(FIND_PICKABLE, ["IfcWall"])
    wu.mouse.click(target["x"], target["y"])
    wu.locator("#isolate-selection").click()
    viewpoint = wu.evaluate("window.bimViewer.getViewpoint()")
    assert viewpoint["default_visibility"] is False and viewpoint["hidden"] == [target["guid"]]
    shown = "window.bimViewer.view.guids().filter((g) => !window.bimViewer.view.hidden.has(g))"
    expect(zheng.locator("#global-id")).to_have_text(target["guid"])
    # The pick's view may reach the follower before the isolating one: wait for the latter.
    zheng.wait_for_function(f"({shown}).length === 1")
    assert zheng.evaluate(shown) == [target["guid"]]

    # Every element selected and coloured: no visibility model shortens that; the view stays with the
    # presenter, who is told why, and the follower keeps the last view that fitted.
    wu.evaluate("""() => { const v = window.bimViewer.view; const all = v.guids();
                    v.colour([{ color: "E53935", ids: all }]); v.select(all); }""")
    expect(wu.locator("#share-status")).to_have_attribute("data-error", "too_large")
    expect(wu.locator("#share-status")).to_contain_text("视图过大")
    zheng.wait_for_timeout(500)
    assert zheng.evaluate("window.bimViewer.view.colours.size") == 0
    expect(wu.locator("#share-status")).to_have_attribute("data-connection", "connected")
    # Back under the limit, the view goes out again.
    wu.evaluate("() => { window.bimViewer.view.colour([]); window.bimViewer.view.select([]); }")
    expect(wu.locator("#share-status")).to_have_attribute("data-error", "")
    wu.locator("#show-all").click()
    expect(zheng.locator("#bim")).to_have_attribute("data-state", "ready")
    zheng.wait_for_function(f"({shown}).length > 200")


# As FIND_PICKABLE, among the elements of one kind of drawing: "instanced" (a geometry FZK-Haus
# repeats 42 times) or "merged" (the rest).
FIND_PICKABLE_DRAWN = """(kind) => {
  const v = window.bimViewer;
  for (const [guid, items] of v.view.items) {
    if (!items.every((item) => item[kind])) continue;
    const p = v.screenPointOf(guid);
    const hit = p && v.pick(p.x, p.y);
    if (hit && hit.guid === guid) return { guid, x: p.x, y: p.y };
  }
  return null;
}"""


ISOLATE_DRAWN = """(kind) => {
  const v = window.bimViewer.view;
  v.isolate([...v.items].filter(([, items]) => items.every((item) => item[kind])).map(([guid]) => guid));
}"""


def test_instanced_and_merged_elements_are_picked_hidden_and_coloured_one_by_one(page, demo_server):
    open_viewer(page, demo_server, "reviewer_wu")
    for kind in ("instanced", "merged"):
        # The instanced ones are rafters under the roof: the rest hidden, they can be seen and picked.
        page.evaluate(ISOLATE_DRAWN, kind)
        target = page.evaluate(FIND_PICKABLE_DRAWN, kind)
        assert target is not None, f"no pickable {kind} element"
        page.mouse.click(target["x"], target["y"])
        expect(page.locator("#global-id")).to_have_text(target["guid"])
        page.evaluate(CAPTURE)
        page.evaluate(f"() => window.bimViewer.view.colour([{{ color: 'FF00FF', ids: ['{target['guid']}'] }}])")
        page.evaluate("() => window.bimViewer.view.select([])")
        assert page.evaluate(DIFF) > 0, f"colouring one {kind} element changed nothing"
        page.evaluate(f"() => window.bimViewer.view.setHidden(['{target['guid']}'], true)")
        hit = page.evaluate(f"() => window.bimViewer.pick({target['x']}, {target['y']})")
        assert hit is None or hit["guid"] != target["guid"]
        page.evaluate(f"() => window.bimViewer.view.setHidden(['{target['guid']}'], false)")
        hit = page.evaluate(f"() => window.bimViewer.pick({target['x']}, {target['y']})")
        assert hit["guid"] == target["guid"]
        page.evaluate("() => { window.bimViewer.view.colour([]); window.bimViewer.view.showAll(); }")
