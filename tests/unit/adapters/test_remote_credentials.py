"""Tokens in the keyring (the test conftest gives each test a file keyring) and `aktenlotse remote token …`."""

from __future__ import annotations

import argparse
import io

import keyring
import keyring.backends.fail
import pytest

from app.adapters import remote_credentials
from app.adapters.remote_credentials import (
    KNOWLEDGE_TOKEN_ACCOUNT,
    MODEL_TOKEN_ACCOUNT,
    NO_KEYRING,
    SERVICE,
    delete_token,
    get_token,
    set_token,
)
from app.adapters.remote_model import OpenAICompatibleModel, probe_http
from app.cli.remote import RemoteTools, add_remote_parser, run_remote
from app.core.errors import RemoteConfigError

TOKEN = "sk-rz-0815-geheim"


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_constants() -> None:
    assert (SERVICE, MODEL_TOKEN_ACCOUNT, KNOWLEDGE_TOKEN_ACCOUNT) == (
        "Aktenlotse", "remote-model-token", "shared-knowledge-token")


def test_set_get_delete_per_kind() -> None:
    assert get_token("model").token is None
    assert "kein Token hinterlegt" in get_token("model").message
    set_token("model", f"  {TOKEN}\n")
    assert keyring.get_password(SERVICE, MODEL_TOKEN_ACCOUNT) == TOKEN
    status = get_token("model")
    assert status.token == TOKEN and status.message == "" and status.present
    assert TOKEN not in repr(status)
    assert get_token("knowledge").token is None  # separate entries
    set_token("knowledge", "anderes")
    assert keyring.get_password(SERVICE, KNOWLEDGE_TOKEN_ACCOUNT) == "anderes"
    assert delete_token("model") is True
    assert delete_token("model") is False
    assert get_token("model").token is None
    assert get_token("knowledge").token == "anderes"


def test_empty_token_and_unknown_kind_are_refused() -> None:
    with pytest.raises(RemoteConfigError, match="leer"):
        set_token("model", "   ")
    with pytest.raises(RemoteConfigError, match="Unbekannte"):
        get_token("irgendwas")  # type: ignore[arg-type]


def test_without_keyring_get_never_raises_and_set_explains(no_keyring) -> None:
    status = get_token("model")
    assert status.token is None
    assert status.message.startswith(NO_KEYRING)
    assert status.message.startswith("Kein Schlüsselbund verfügbar – Anfragen an das Rechenzentrum gehen ohne Token")
    with pytest.raises(RemoteConfigError, match="Kein Schlüsselbund verfügbar") as caught:
        set_token("model", TOKEN)
    assert TOKEN not in str(caught.value)
    with pytest.raises(RemoteConfigError, match="Kein Schlüsselbund verfügbar"):
        delete_token("knowledge")


# -- CLI: remote token set / delete ---------------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aktenlotse")
    add_remote_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["remote", *argv])


def _tools() -> RemoteTools:
    return RemoteTools(get_token=remote_credentials.get_token, set_token=remote_credentials.set_token,
                       delete_token=remote_credentials.delete_token, make_model=OpenAICompatibleModel,
                       probe=probe_http)


def test_cli_token_set_reads_stdin_not_argv() -> None:
    out, err = io.StringIO(), io.StringIO()
    args = _parse("token", "set", "--for", "knowledge")
    assert run_remote(args, None, _tools(), stdin=io.StringIO(TOKEN + "\n"), out=out, err=err) == 0  # type: ignore[arg-type]
    assert get_token("knowledge").token == TOKEN
    assert TOKEN not in out.getvalue() + err.getvalue()
    assert "Fachbereichswissen" in out.getvalue()
    with pytest.raises(SystemExit):
        _parse("token", "set", "--for", "model", TOKEN)  # no token on the command line
    assert run_remote(_parse("token", "delete", "--for", "knowledge"), None, _tools(), out=out) == 0  # type: ignore[arg-type]
    assert get_token("knowledge").token is None
    assert "gelöscht" in out.getvalue()


def test_cli_token_set_empty_input_and_no_keyring(no_keyring) -> None:
    err = io.StringIO()
    args = _parse("token", "set", "--for", "model")
    assert run_remote(args, None, _tools(), stdin=io.StringIO(""), out=io.StringIO(), err=err) == 2  # type: ignore[arg-type]
    assert "Kein Token" in err.getvalue()
    err = io.StringIO()
    assert run_remote(args, None, _tools(), stdin=io.StringIO(TOKEN), out=io.StringIO(), err=err) == 2  # type: ignore[arg-type]
    assert "Kein Schlüsselbund verfügbar" in err.getvalue() and TOKEN not in err.getvalue()


def test_cli_token_set_asks_without_echo_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []

    def fake_getpass(prompt: str, stream: object = None) -> str:
        asked.append(prompt)
        return TOKEN

    monkeypatch.setattr("app.cli.remote.getpass.getpass", fake_getpass)
    assert run_remote(_parse("token", "set", "--for", "model"), None, _tools(), stdin=Terminal(),  # type: ignore[arg-type]
                      out=io.StringIO(), err=io.StringIO()) == 0
    assert asked and get_token("model").token == TOKEN
