"""One bounded wait for an answer that is not ready yet, on tenacity.

Three conversations wait: Eurostat's asynchronous API (a queued request's status), Eurostat's
413 footer (a file that appears later) and GENESIS jobs (a result that is still being built).
Each asks `check` until it returns something other than None, sleeping `every` seconds between
checks, and gives up after `within` seconds. The bound is also a number of checks
(within / every + 1), so an injected sleep that does not pass time (tests) ends as surely as a
real one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryError,
    Retrying,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_fixed,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def poll(check: Callable[[], T | None], *, every: float, within: float, waiting_for: str,
         on_timeout: Callable[[int], Exception],
         sleep: Callable[[float], None] = time.sleep) -> T:
    """`check()` until it answers, at most `within` seconds; on_timeout(checks) is raised after.

    `check` raises for an answer that ends the wait badly (expired, refused); None means "not
    yet"."""
    checks = int(within // every) + 1 if every > 0 else 1
    retrying = Retrying(
        retry=retry_if_result(lambda answer: answer is None),
        stop=stop_after_attempt(checks) | stop_after_delay(within),
        wait=wait_fixed(every),
        sleep=sleep,
        before_sleep=lambda state: log.info("%s not ready (check %d); next check in %.0fs",
                                            waiting_for, state.attempt_number, every),
    )
    try:
        return retrying(check)
    except RetryError as exc:
        raise on_timeout(exc.last_attempt.attempt_number) from None
