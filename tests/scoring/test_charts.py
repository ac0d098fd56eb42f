"""The SVG charts parse as XML, name themselves for screen readers, escape text, and mark what matters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from scoring.charts import ChartTexts, deviation_heatmap_svg, expert_totals_svg, summary_totals_svg
from scoring.rules import Cell, Criterion, Group
from tests.scoring.test_rules_summary import summarize

NS = {"svg": "http://www.w3.org/2000/svg"}
D = Decimal

TOTALS = {
    "e1": {"A": D("48.16"), "B": D("39.66")},
    "e2": {"A": D("50.00"), "B": D("40.00")},
    "e3": {"A": D("47.00"), "B": D("41.50")},
    "e4": {"A": D("60.00"), "B": D("39.00")},
}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for ref in root.get("aria-labelledby", "").split():
        assert ref in ids
    assert "<script" not in svg
    return root


def titles(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.findall("svg:title", NS)]


def test_expert_totals_chart_has_a_dot_per_expert_and_bid_with_a_tooltip():
    root = parse(expert_totals_svg(TOTALS, ["A", "B"]))
    rows = root.findall("svg:g[@class='bid']", NS)
    assert [r.get("data-bid") for r in rows] == ["A", "B"]
    for row in rows:
        dots = row.findall("svg:circle", NS)
        assert {d.get("data-expert") for d in dots} == {"e1", "e2", "e3", "e4"}
        assert all(titles(d) for d in dots)
    first_dots = {d.get("data-expert"): titles(d)[0] for d in rows[0].findall("svg:circle", NS)}
    assert first_dots["e1"] == "e1：48.16"


def test_expert_totals_chart_shows_the_mean_and_the_trimmed_range():
    root = parse(expert_totals_svg(TOTALS, ["A"]))
    row = root.find("svg:g[@class='bid']", NS)
    assert row is not None
    mean = row.find("svg:line[@class='mean']", NS)
    band = row.find("svg:rect[@class='trimmed-range']", NS)
    assert mean is not None and band is not None
    # (48.16 + 50 + 47 + 60) / 4 = 51.29; trimmed: 48.16 .. 50.00
    assert titles(mean) == ["平均分：51.29"]
    assert titles(band) == ["去极值范围：48.16 – 50.00"]
    # the axis runs to 60: the band starts at 48.16 / 60 of the plot
    x = float(band.get("x", "0"))
    assert x == pytest.approx(140 + 480 * 48.16 / 60, abs=0.1)


def test_the_dropped_expert_is_hollow_and_left_out_of_mean_and_range():
    root = parse(expert_totals_svg(TOTALS, ["A"], dropped="e4"))
    dropped = root.find(".//svg:circle[@data-expert='e4']", NS)
    assert dropped is not None
    assert dropped.get("class") == "expert dropped"
    assert dropped.get("fill") == "none"
    assert titles(dropped)[0].endswith("（已剔除）")
    mean = root.find(".//svg:line[@class='mean']", NS)
    assert mean is not None
    assert titles(mean) == ["平均分：48.39"]  # (48.16 + 50 + 47) / 3 = 48.386…


def test_labels_are_escaped_and_read_back_as_written():
    label = '<script>alert("x")</script> & Co'
    svg = expert_totals_svg(TOTALS, ["A"], bid_labels={"A": label}, expert_labels={"e1": "王<工>"})
    assert "<script>" not in svg
    root = parse(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert label in texts
    dot = root.find(".//svg:circle[@data-expert='e1']", NS)
    assert dot is not None
    assert titles(dot) == ["王<工>：48.16"]


def test_chart_texts_can_be_translated():
    texts = ChartTexts(totals_title="Totals by expert", mean="mean {value}")
    root = parse(expert_totals_svg(TOTALS, ["A"], texts=texts, chart_id="t1"))
    assert titles(root) == ["Totals by expert"]
    assert root.get("aria-labelledby") == "t1-title t1-desc"


def test_a_chart_id_that_is_not_a_plain_name_is_refused():
    with pytest.raises(ValueError, match="chart id"):
        expert_totals_svg(TOTALS, ["A"], chart_id='x" onload="y')


HEAT_CRITERION = Criterion("t1", Group.TECHNICAL, D("10"), D("0.5"))
HEAT_SCORES = {
    Cell("e1", "A", "t1"): D("9"),
    Cell("e2", "A", "t1"): D("9"),
    Cell("e3", "A", "t1"): D("9"),
    Cell("e4", "A", "t1"): D("2"),
    Cell("e1", "B", "t1"): D("6"),
    Cell("e2", "B", "t1"): D("6"),
    Cell("e3", "B", "t1"): D("6.5"),
}


def test_heatmap_has_a_cell_per_expert_and_bid_and_outlines_those_above_the_threshold():
    svg = deviation_heatmap_svg(
        HEAT_SCORES, HEAT_CRITERION, ["e1", "e2", "e3", "e4"], ["A", "B"], criterion_label="施工方案"
    )
    root = parse(svg)
    assert titles(root) == ["评分偏离度：施工方案"]
    cells = root.findall(".//svg:rect", NS)
    assert len(cells) == 8
    assert all(titles(c) for c in cells)
    over = [c for c in cells if "over" in (c.get("class") or "").split()]
    # e4 on A: |2 − 9| / 10 = 0.70; e1 on A: |9 − 20/3| / 10 = 0.23, below
    assert [(c.get("data-bid"), c.get("data-deviation")) for c in over] == [("A", "0.70")]
    assert over[0].get("stroke") == "#000"
    missing = [c for c in cells if "missing" in (c.get("class") or "")]
    assert len(missing) == 1
    assert titles(missing[0]) == ["e4 · B：未评分"]


def test_heatmap_tooltips_give_value_and_deviation():
    root = parse(deviation_heatmap_svg(HEAT_SCORES, HEAT_CRITERION, ["e1", "e2", "e3", "e4"], ["A"]))
    row = root.find("svg:g[@data-expert='e1']", NS)
    assert row is not None
    rect = row.find("svg:rect", NS)
    assert rect is not None
    assert titles(rect) == ["e1 · A：分值 9，偏离度 0.23"]


def test_heatmap_with_a_single_expert_has_nothing_to_compare():
    root = parse(deviation_heatmap_svg(HEAT_SCORES, HEAT_CRITERION, ["e1"], ["A"]))
    [rect] = root.findall(".//svg:rect", NS)
    assert "无其他专家可比" in titles(rect)[0]
    assert rect.get("data-deviation") is None


def test_the_summary_chart_draws_the_bids_in_rank_order():
    root = parse(summary_totals_svg(summarize(), bid_labels={"C": "丙"}))
    rows = root.findall("svg:g[@class='bid']", NS)
    assert [r.get("data-bid") for r in rows] == ["C", "A", "B"]
    assert len(rows[0].findall("svg:circle", NS)) == 5
    label = rows[0].find("svg:text", NS)
    assert label is not None
    assert label.text == "丙"
