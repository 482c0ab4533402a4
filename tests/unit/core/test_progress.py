"""CancelToken and Progress."""

import threading

import pytest

from app.core.errors import AktenlotseError, Cancelled
from app.core.progress import CancelToken, Progress


def test_cancel_token_is_seen_across_threads() -> None:
    token = CancelToken()
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(token.cancelled))
    token.cancel()
    worker.start()
    worker.join()
    assert seen == [True]
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()


def test_uncancelled_token_does_not_raise() -> None:
    token = CancelToken()
    token.raise_if_cancelled()
    assert not token.cancelled


def test_progress_fraction() -> None:
    assert Progress(1, 4).fraction == 0.25
    assert Progress(3, 0).fraction is None


def test_errors_carry_german_message_and_detail() -> None:
    err = AktenlotseError("Datei fehlt.", "ENOENT /x")
    assert err.user_message == "Datei fehlt."
    assert err.detail == "ENOENT /x"
    assert isinstance(Cancelled(), AktenlotseError)
