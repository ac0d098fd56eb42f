"""The scoring sheet in real browsers: two experts score in two contexts and see each other's
progress, never each other's values; a refreshed page shows what was saved; once the host opens the
summary, the leader's page shows the totals and the ranking the server computes.

The session is a third demo lot (``tests/browser/scoring_demo.py`` carries it into detailed review
in the demo server's database); BD01 and BD02 stay as the other browser tests expect them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.servers import ROOT

COUNTS = {"member", "filled", "total", "submitted"}


def demo(env: dict[str, str], *args: object) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.scoring_demo", *map(str, args)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def enter_room(page, base_url: str, username: str, session: int) -> None:
    log_in(page, base_url, username)
    page.goto(f"{base_url}/sessions/{session}/room/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")


def cell(page, bid: int, criterion: int):
    return page.locator(f'#my-sheet td.cell[data-bid="{bid}"][data-criterion="{criterion}"]')


def type_score(page, bid: int, criterion: int, value: str) -> None:
    box = cell(page, bid, criterion)
    box.locator("input").fill(value)
    box.locator("input").press("Enter")
    expect(box).to_have_attribute("data-state", "saved")


def test_two_experts_see_each_other_s_progress_not_values_and_the_leader_sees_the_summary(
    new_page, demo_server, demo_env
):
    data = demo(demo_env, "prepare")
    session = data["session"]
    bids = [b["id"] for b in data["bids"]]
    first, second = data["criteria"][0], data["criteria"][1]
    total = len(bids) * len(data["criteria"])

    li, zhang = new_page(), new_page()
    received: list[dict[str, Any]] = []
    li.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(json.loads(payload))))
    enter_room(li, demo_server, "expert_li", session)
    enter_room(zhang, demo_server, "expert_zhang", session)
    for page in (li, zhang):
        expect(page.locator("#my-sheet")).to_be_visible()

    # An entry that is not a number is refused on the spot with its reason, and nothing is sent.
    box = cell(li, bids[0], first["id"])
    box.locator("input").fill("abc")
    expect(box).to_have_attribute("data-state", "invalid")
    expect(box.locator(".cell-note")).to_contain_text("请输入数字")
    type_score(li, bids[0], first["id"], first["values"][0])
    type_score(zhang, bids[0], first["id"], first["values"][0])
    type_score(zhang, bids[1], second["id"], second["values"][1])

    # Each sees the other's progress as counts.
    expect(li.locator('#scoring-progress tr:has-text("张华") .filled')).to_have_text(f"2 / {total}")
    expect(zhang.locator('#scoring-progress tr:has-text("李明") .filled')).to_have_text(f"1 / {total}")
    # No value or cell of 张华 ever reached 李明's page.
    me = next(f for f in received if f["type"] == "snapshot")["data"]["me"]["member"]
    for frame in received:
        if frame["type"] in ("scoring.progress", "score.deviation_confirmed") and frame["data"]["member"] != me:
            assert set(frame["data"]) <= COUNTS, frame
        if frame["type"] == "snapshot" and frame["data"].get("scoring"):
            assert frame["data"]["scoring"]["sheet"]["member"] == me

    # A refreshed page shows exactly what was saved.
    li.reload()
    expect(li.locator("#connection-state")).to_have_attribute("data-state", "connected")
    expect(cell(li, bids[0], first["id"]).locator("input")).to_have_value(first["values"][0])
    expect(cell(li, bids[1], first["id"]).locator("input")).to_have_value("")

    # The committee finishes and submits (in the server's database); the host opens the summary.
    demo(demo_env, "finish", session)
    host = new_page()
    log_in(host, demo_server, "host_wang")
    host.goto(f"{demo_server}/sessions/{session}/console/")
    expect(host.locator("#connection-state")).to_have_attribute("data-state", "connected")
    opening = host.locator('[data-transition="open_summary"]')
    expect(opening).to_be_enabled()
    opening.click()

    expect(li.locator("#phase")).to_have_attribute("data-phase", "summary")
    summary = li.locator("#scoring-summary")
    expect(summary).to_be_visible()
    rows = summary.locator("tbody tr")
    wanted = demo(demo_env, "expected", session)["rows"]
    expect(rows).to_have_count(len(wanted))
    for index, row in enumerate(wanted):
        expect(rows.nth(index).locator(".total")).to_have_text(row["total"])
        expect(rows.nth(index).locator(".rank")).to_have_text(str(row["rank"]))
        expect(rows.nth(index).locator(".bid")).to_contain_text(row["label"])
    assert [r["rank"] for r in wanted] == sorted(r["rank"] for r in wanted)
    expect(rows.first.locator(".candidate")).not_to_be_empty()
    expect(summary.locator("img.chart").first).to_be_visible()
