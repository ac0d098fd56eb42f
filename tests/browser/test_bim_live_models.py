"""A model attached while the viewer is open reaches the page live (the room's bim.model_attached):
the reviewer's list gains it without a reload, and its conversion's progress follows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_bim_viewer import CONVERSION_MS, open_viewer
from tests.servers import ROOT

BID_C = (
    "import json; from evaluation.models import Bid;"
    "print(json.dumps(Bid.objects.get(lot__code='BD01', anonymous_label__startswith='C').pk))"
)


def bid_c(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", BID_C], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return int(json.loads(out.stdout.decode().strip().splitlines()[-1]))


def test_a_model_the_host_attaches_appears_in_the_open_viewer_of_the_reviewer(page, new_page, demo_server, demo_env):
    open_viewer(page, demo_server, "reviewer_wu")
    before = page.locator("#model-select option").count()

    host = new_page()
    log_in(host, demo_server, "host_wang")
    host.wait_for_url(f"{demo_server}/")
    token = next(c["value"] for c in host.context.cookies() if c["name"] == "csrftoken")
    duplex = (Path(settings.EVAL_SHARED_DIR) / "ifc" / "duplex.ifc").read_bytes()
    response = host.request.post(
        f"{demo_server}/bim/bids/{bid_c(demo_env)}/models",
        multipart={"file": {"name": "duplex.ifc", "mimeType": "application/octet-stream", "buffer": duplex}},
        headers={"X-CSRFToken": token, "Referer": f"{demo_server}/"},
    )
    assert response.status == 201, response.text()
    attached = response.json()["model"]

    expect(page.locator("#model-select option")).to_have_count(before + 1)
    option = page.locator(f'#model-select option[value="{attached}"]')
    expect(option).to_have_text(re.compile(r"^C.* · IFC2X3$"))
    # Shown, it converts (the server's thread) and loads when ready, without a reload.
    page.locator("#model-select").select_option(str(attached))
    expect(page.locator("#bim")).to_have_attribute("data-model", str(attached), timeout=CONVERSION_MS)
    expect(page.locator("#bim")).to_have_attribute("data-state", "ready")
