"""Eurostat's large answers: an empty SDMX-ML message whose footer (code 413) says the response
"will be written to a file which will be located under URL: ...", to be checked "periodic every
5 minutes or at your preference". The file is a ZIP holding one SDMX-ML message.

follow_footer polls that URL until the ZIP is there (404 = not yet), bounded by
FOOTER_MAX_WAIT seconds (polling.poll), lands the ZIP as received, then lands the XML it holds
as the dataset's body (bounded in size, whatever the ZIP's headers claim; member names are
never used as paths).
The URL must be on the host the request went to: a response cannot send the client elsewhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from kmu_pipeline.catalogue import Dataset
from kmu_pipeline.errors import MalformedPayloadError, NotFoundError, TooLargeError
from kmu_pipeline.landing import Landed, Request
from kmu_pipeline.parse.safe_zip import copy_single_member
from kmu_pipeline.sources.http import HttpClient, split_credentials
from kmu_pipeline.sources.polling import poll

log = logging.getLogger(__name__)
FOOTER_POLL_SECONDS = 60.0
FOOTER_MAX_WAIT = 20 * 60.0


def follow_footer(dataset: Dataset, client: HttpClient, base_url: str, footer: Landed,
                  file_url: str, *, poll_seconds: float | None = None,
                  max_wait: float | None = None) -> Landed:
    """Fetch the ZIP the footer points to and land the SDMX-ML message inside it."""
    bound = min(FOOTER_MAX_WAIT if max_wait is None else max_wait, client.remaining())
    request, origin = _file_request(dataset, base_url, file_url, footer)
    if footer.not_modified:  # the same footer as last time: its file was fetched then
        previous = client.landing.latest(_unzipped_request(request))
        if previous is not None:
            return previous

    def archive_if_there() -> Landed | None:
        try:
            return client.fetch(request, origin, conditional=False)
        except NotFoundError:  # not written yet
            return None

    archive = poll(archive_if_there, every=poll_seconds if poll_seconds is not None
                   else FOOTER_POLL_SECONDS, within=bound,
                   waiting_for=f"{dataset.name}: {file_url}", sleep=client.sleep,
                   on_timeout=lambda checks: TooLargeError(
                       f"Eurostat wrote the answer to {file_url}, which was not there after "
                       f"{checks} checks in {bound:.0f}s", dataset=dataset.name, url=footer.url))
    return _land_unzipped(dataset, client, request, archive)


def _file_request(dataset: Dataset, base_url: str, file_url: str,
                  footer: Landed) -> tuple[Request, str]:
    parts = urlsplit(file_url)
    base = urlsplit(split_credentials(base_url)[0])
    if parts.scheme not in ("http", "https") or parts.hostname != base.hostname:
        raise MalformedPayloadError(
            f"413 footer points to {file_url!r}, not to the host asked ({base.hostname})",
            dataset=dataset.name, url=footer.url)
    # same host, same credentials: keep any user:password of the base URL
    origin = f"{parts.scheme}://{urlsplit(base_url).netloc}"
    request = Request(source=footer.source, dataset=dataset.name, path=parts.path,
                      query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
                      accept="application/zip, application/octet-stream")
    return request, origin


def _unzipped_request(request: Request) -> Request:
    """Where the XML taken out of the ZIP is landed (beside the ZIP, never by member name)."""
    return Request(source=request.source, dataset=request.dataset,
                   path=f"{request.path}/unzipped", query=request.query)


def _land_unzipped(dataset: Dataset, client: HttpClient, request: Request,
                   archive: Landed) -> Landed:
    """The one XML member of the landed ZIP, landed as the body the parser reads."""
    unzipped = _unzipped_request(request)
    tmp = client.landing.temp_body(unzipped)
    try:
        with tmp:
            member = copy_single_member(
                archive.body_path(client.landing.root), tmp, max_bytes=client.max_body_bytes,
                refuse=lambda why: MalformedPayloadError(
                    f"the file the 413 footer points to is refused: {why}",
                    dataset=dataset.name, url=archive.url))
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return client.landing.commit(
        unzipped, Path(tmp.name), url=archive.url, status=archive.status,
        headers={"content-type": "application/xml"},
        extra={"unzipped_from": archive.sha256, "member": member.filename},
    )
