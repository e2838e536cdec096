"""Real GENESIS answers, read from the recorded pystatis cassettes in ../shared/reference.

The cassettes (vcrpy YAML, re-recorded 10 Mar 2026 against the live service) hold every
interaction in order with its body as sent: JSON text or the ffcsv ZIP bytes. Tests serve those
bodies unchanged from a local HTTP server.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from werkzeug import Request, Response

CASSETTES = "destatis/pystatis-cassettes"
VALUES_ANSWER = ("destatis/restatis-httptest-fixtures/values2/api/catalogue/"
                 "values2variable-86e7c4-332fef-POST.json")
REGISTER_FLAT = "destatis/pystatis-extracted/52111-0001"


@dataclass(frozen=True)
class Answer:
    endpoint: str  # e.g. data/tablefile
    status: int
    content_type: str
    body: bytes


@cache
def answers(reference: Path, table: str) -> list[Answer]:
    doc = yaml.safe_load((reference / CASSETTES / f"{table}.yaml").read_text(encoding="utf-8"))
    out = []
    for item in doc["interactions"]:
        response = item["response"]
        body = response["body"]["string"]
        ctype = (response.get("headers", {}).get("Content-Type") or ["application/json"])[0]
        out.append(Answer(item["request"]["uri"].split("/rest/2020/")[1],
                          response["status"]["code"], ctype,
                          body if isinstance(body, bytes) else body.encode("utf-8")))
    return out


def values_answer(reference: Path, variable: str, values: dict[str, str]) -> Answer:
    """The recorded restatis values2variable answer (Status 22, List of Code/Content/
    Variables/Information), naming `variable` and listing `values` instead of its Länder."""
    doc = json.loads((reference / VALUES_ANSWER).read_text(encoding="utf-8"))
    doc["Parameter"]["name"] = variable
    doc["List"] = [{"Code": code, "Content": label, "Variables": "1", "Information": "false"}
                   for code, label in values.items()]
    return Answer("catalogue/values2variable", 200, "application/json;charset=UTF-8",
                  json.dumps(doc, ensure_ascii=False).encode())


def register_sizes(reference: Path) -> dict[str, str]:
    """BESG12's attribute codes and labels as the real 52111-0001 table file has them."""
    flat = next((reference / REGISTER_FLAT).glob("*_flat.csv"))
    rows = flat.read_text(encoding="utf-8-sig").splitlines()
    header = rows[0].split(";")
    code, label = header.index("2_variable_attribute_code"), header.index(
        "2_variable_attribute_label")
    return dict(sorted({(r.split(";")[code], r.split(";")[label]) for r in rows[1:]}))


def first(items: list[Answer], endpoint: str, contains: bytes = b"") -> Answer:
    return next(a for a in items if a.endpoint == endpoint and contains in a.body)


class GenesisFake:
    """Serves queued real answers per endpoint on a pytest-httpserver; records what arrived."""

    def __init__(self, httpserver, prefix: str = "/genesis") -> None:
        self.httpserver, self.prefix = httpserver, prefix
        self.queues: dict[str, deque[Answer]] = defaultdict(deque)
        self.received: list[tuple[str, dict, dict]] = []  # endpoint, form, headers
        httpserver.expect_request(re.compile(f"^{prefix}/.*"),
                                  method="POST").respond_with_handler(self._answer)

    @property
    def base_url(self) -> str:
        return self.httpserver.url_for(self.prefix)

    def queue(self, endpoint: str, *items: Answer) -> None:
        self.queues[endpoint].extend(items)

    def _answer(self, request: Request) -> Response:
        endpoint = request.path[len(self.prefix) + 1:]
        self.received.append((endpoint, dict(request.form), dict(request.headers)))
        queue = self.queues[endpoint]
        if not queue:
            return Response(b"no queued answer", status=404, content_type="text/plain")
        answer = queue.popleft() if len(queue) > 1 else queue[0]  # the last answer repeats
        return Response(answer.body, status=answer.status, content_type=answer.content_type)

    def calls(self, endpoint: str) -> list[tuple[dict, dict]]:
        return [(form, headers) for ep, form, headers in self.received if ep == endpoint]
