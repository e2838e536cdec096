"""Eurostat's asynchronous API: a data request Eurostat decides to process in the background is
answered (HTTP 200) with a SOAP envelope instead of data: `syncResponse` holding
`<queued><id>UUID</id><status>SUBMITTED</status></queued>` (the data endpoint), or
`asyncResponse` holding a key and a status (the status endpoint, as in Eurostat's OpenAPI
description). The id is then polled at `1.0/async/status/{id}` until AVAILABLE (EXPIRED means
the result is gone) and the data fetched from `1.0/async/data/{id}`, bounded in time
(polling.poll). The envelope never reaches a parser as data.

Both endpoints sit beside the SDMX service (`.../api/dissemination/1.0/async/...` next to
`.../api/dissemination/sdmx/2.1`). The envelopes are tiny and read with two anchored regular
expressions, never with an XML parser that could resolve entities.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import MalformedPayloadError, NotFoundError, TooLargeError
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse.formats import head
from kmu_pipeline.sources.http import HttpClient
from kmu_pipeline.sources.polling import poll

log = logging.getLogger(__name__)
ASYNC_POLL_SECONDS = 30.0
ASYNC_MAX_WAIT = 30 * 60.0
# <key> in an asyncResponse, <id> inside <queued> of a syncResponse
_KEY = re.compile(rb"<(?:\w+:)?(?:key|id)>\s*([0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
                  rb"\s*<")
_STATUS = re.compile(rb"<(?:\w+:)?status>\s*(SUBMITTED|PROCESSING|AVAILABLE|EXPIRED)\s*<")


def async_key(body: Path) -> str | None:
    """The request id when `body` is a queued (syncResponse) or asyncResponse envelope."""
    start = head(body, 8192)
    if b"syncResponse" not in start:  # also matches asyncResponse
        return None
    match = _KEY.search(start)
    return match.group(1).decode() if match else None


def _status(body: Path, dataset: Dataset, landed: Landed) -> str:
    match = _STATUS.search(body.read_bytes()[:8192])
    if not match:
        raise MalformedPayloadError("asynchronous status answer without a status",
                                    dataset=dataset.name, url=landed.url)
    return match.group(1).decode()


def async_base(base_url: str) -> str:
    """`.../api/dissemination` for `.../api/dissemination/sdmx/2.1`; a replay base as it is."""
    base = base_url.rstrip("/")
    return base[: -len("/sdmx/2.1")] if base.endswith("/sdmx/2.1") else base


def follow_async(dataset: Dataset, client: HttpClient, base_url: str, submitted: Landed,
                 key: str, *, accept: str = "", poll_seconds: float | None = None,
                 max_wait: float | None = None) -> Landed:
    """Poll the key's status until AVAILABLE, then land the data as the dataset's body."""
    bound = min(ASYNC_MAX_WAIT if max_wait is None else max_wait, client.remaining())
    base = async_base(base_url)
    status_request = Request(source=submitted.source, dataset=dataset.name,
                             path=f"1.0/async/status/{key}", accept="application/xml")
    last = {"state": "SUBMITTED"}

    def available() -> bool | None:
        landed = client.fetch(status_request, base, conditional=False)
        last["state"] = _status(landed.body_path(client.landing.root), dataset, landed)
        if last["state"] == "EXPIRED":
            raise NotFoundError(f"Eurostat's asynchronous result {key} expired before it was "
                                f"fetched; the next run asks again", dataset=dataset.name,
                                url=landed.url)
        return True if last["state"] == "AVAILABLE" else None

    poll(available, every=ASYNC_POLL_SECONDS if poll_seconds is None else poll_seconds,
         within=bound, waiting_for=f"{dataset.name}: asynchronous request {key}",
         sleep=client.sleep,
         on_timeout=lambda checks: TooLargeError(
             f"Eurostat's asynchronous request {key} still {last['state']} after {checks} "
             f"checks in {bound:.0f}s", dataset=dataset.name, url=submitted.url))
    data_request = Request(source=submitted.source, dataset=dataset.name,
                           path=f"1.0/async/data/{key}", accept=accept)
    return client.fetch(data_request, base, conditional=False)
