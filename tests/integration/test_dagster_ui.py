"""Dagster's own UI shows a scored month: a browser opens the predictions asset and reads its metadata,
then the landing folder's observation of that month.

Playwright drives Debian's chromium (``/usr/bin/chromium``, installed by ``scripts/test``): Playwright's
own browser builds cannot be downloaded here. The screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows
from batchpoint.demo.waiting import wait_for_new_version
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.datastore import open_datastore
from dagster_project.naming import landing_key

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MONTH = datetime.now(UTC).strftime("%Y-%m")


def test_the_asset_pages_show_the_scored_partition_and_its_landing_observation(stack: Settings) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `scripts/test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    name = f"ui-{uuid.uuid4().hex[:6]}"
    manifest = _score_one_month(stack, name)
    rows, version = manifest["totals"]["rows"], manifest["model"]["version"]

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot, landing_screenshot = ARTIFACTS / "dagster-asset.png", ARTIFACTS / "dagster-landing.png"
    checks_screenshot = ARTIFACTS / "dagster-checks.png"
    key = name.replace("-", "_")
    url = f"{stack.dagster_url}/assets/{key}/predictions?view=partitions&partition={MONTH}"
    landing_path = "/".join(landing_key(BatchEndpoint.parse(_endpoint_spec(name))).path)
    landing_url = f"{stack.dagster_url}/assets/{landing_path}?view=events&partition={MONTH}"
    checks_url = f"{stack.dagster_url}/assets/{key}/predictions?view=checks"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.set_default_timeout(90_000)  # two busy cores render the UI slowly
            # A first visit gets Dagster's newsletter dialog over the page.
            page.add_locator_handler(
                page.get_by_text("Join the Dagster community"), lambda: page.get_by_role("button", name="Skip").click()
            )
            page.goto(url)
            metadata = page.get_by_text("model_version", exact=True).first
            expect(metadata).to_be_visible(timeout=90_000)
            page.screenshot(path=str(screenshot), full_page=True)
            text = page.inner_text("body")
            # The landing folder's observations: the run's, just before it scored, and the landing
            # sensor's between runs (Dagster details the newest, whichever came last).
            page.goto(landing_url)
            expect(page.get_by_text("observed", exact=False).first).to_be_visible(timeout=90_000)
            page.screenshot(path=str(landing_screenshot), full_page=True)
            landing_text = page.inner_text("body")
            # The asset's checks tab: the month's three checks, drift saying it has no baseline.
            page.goto(checks_url)
            expect(page.get_by_text("completeness", exact=True).first).to_be_visible(timeout=90_000)
            page.get_by_text("drift", exact=True).first.click()
            expect(page.get_by_text("no baseline", exact=False).first).to_be_visible(timeout=90_000)
            page.screenshot(path=str(checks_screenshot), full_page=True)
            checks_text = page.inner_text("body")
        finally:
            browser.close()
    print(f"screenshots: {screenshot} ({url}), {landing_screenshot} ({landing_url})")

    assert MONTH in text
    shown = {
        "rows": str(rows),
        "model_version": version,
        "model_uri": f"models:/{name}-model/{version}",
        "deployment": "forecast-mlflow",
        "output_version": manifest["version_id"],
    }
    for label, value in shown.items():
        # A metadata row reads as its label, then its value.
        assert re.search(rf"(?m)^{label}\s+{re.escape(value)}$", text), f"{label} {value} not on {url} ({screenshot})"
    assert re.search(rf"Partition\s+{MONTH}\s+observed", landing_text), landing_screenshot
    assert re.search(rf"(?m)^uri\s+s3://landing/{name}/{MONTH}/$", landing_text), landing_screenshot
    for check in ("completeness", "validity", "drift"):
        assert check in checks_text, checks_screenshot
    assert "no baseline" in checks_text, checks_screenshot
    assert [c["status"] for c in manifest["checks"]["results"]] == ["passed", "passed", "not_evaluated"]


def _endpoint_spec(name: str) -> dict[str, Any]:
    return {"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": "2024-01"}}


def _score_one_month(stack: Settings, name: str) -> dict[str, Any]:
    """Create an endpoint with an MLflow deployment, land one file, wait for its version: its manifest."""
    history = generate_history(products=12, months=36, start="2024-01", seed=5)
    history = history[history["month"] <= MONTH]
    last = str(pd.Period(MONTH, freq="M") - 1)
    model = train_and_register(history[history["month"] < last], stack.mlflow_uri, f"{name}-model", seed=5)
    registry = Registry(stack.registry)
    registry.create_or_update_endpoint(BatchEndpoint.parse(_endpoint_spec(name)))
    registry.create_or_update_deployment(
        BatchDeployment.parse({"name": "forecast-mlflow", "endpoint_name": name, "model": model.uri})
    )
    registry.close()
    dagster = DagsterClient(stack.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while dagster.sensor_status("datastore_events") != "RUNNING":
        assert time.monotonic() < deadline, "the data-arrival sensor never started"
        time.sleep(1)
    store = open_datastore(stack)
    rows = scoring_rows(history, MONTH)
    store.put_bytes(stack.landing_bucket, f"{name}/{MONTH}/part-000.csv", rows.to_csv(index=False).encode())
    published = wait_for_new_version(
        store, stack, dagster=dagster, endpoint=name, partition=MONTH, before=None, say=print, timeout_seconds=240
    )
    return read_manifest(store, OutputLayout(stack.output_bucket, name, MONTH), published.version_id)
