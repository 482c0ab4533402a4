"""`aktenlotse remote token set|delete --for model|knowledge` and `aktenlotse remote check`.

token set: the token is read from standard input when that is not a terminal (`… | aktenlotse remote token set`),
else asked for without echo – never taken from the command line (it would land in the shell history and the
process list). It goes to the OS keyring. token delete: removes it.

check: for each data-centre endpoint in the effective configuration (remote_model_url, shared_knowledge_url) parse
the address, connect and report OK or the German reason. Exit 0 only when every configured endpoint answers; with
none configured Aktenlotse runs offline and the exit code is 0. Exit 1: an endpoint fails; 2: bad usage / broken
policy / no keyring.

The CLI does not import adapters (architecture rule): the keyring functions, the model client and the HTTP probe
arrive in `RemoteTools`, built by the composition root (bootstrap).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from app.config import EffectiveConfig
from app.core.endpoints import parse_endpoint
from app.core.errors import AktenlotseError

KINDS = ("model", "knowledge")
KNOWLEDGE_PURPOSE = "Fachbereichswissen"
MODEL_PURPOSE = "Sprachmodell im Rechenzentrum"


class TokenStatusLike(Protocol):
    token: str | None
    message: str


class RemoteModelLike(Protocol):
    def load(self) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RemoteTools:
    """What `run_remote` needs from the adapters (app.adapters.remote_credentials / remote_model)."""

    get_token: Callable[[str], TokenStatusLike]
    set_token: Callable[[str, str], None]
    delete_token: Callable[[str], bool]
    make_model: Callable[..., RemoteModelLike]  # OpenAICompatibleModel(base_url, model_name, *, token=…, …)
    probe: Callable[..., str]  # probe_http(url, *, ca_bundle, token, timeout) -> "" or German reason
    # ChromaSharedKnowledge(url, collections, *, token=…, ca_bundle=…, timeout=…): with it the check also confirms
    # that every collection the policy names exists on the server (and counts its passages)
    make_knowledge: Callable[..., Any] | None = None


def add_remote_parser(subparsers: Any) -> argparse.ArgumentParser:
    remote = subparsers.add_parser("remote", help="Verbindung zum Rechenzentrum: Token hinterlegen, Endpunkte prüfen.")
    remote_sub = remote.add_subparsers(dest="remote_command", metavar="AKTION", required=True)
    token = remote_sub.add_parser("token", help="Token für das Rechenzentrum im Schlüsselbund hinterlegen oder löschen.")
    token_sub = token.add_subparsers(dest="token_command", metavar="AKTION", required=True)
    token_set = token_sub.add_parser("set", help="Token hinterlegen (von der Standardeingabe oder verdeckt abgefragt).")
    token_set.add_argument("--for", dest="kind", choices=KINDS, required=True,
                           help="model: Sprachmodell im Rechenzentrum; knowledge: Fachbereichswissen")
    token_delete = token_sub.add_parser("delete", help="Token aus dem Schlüsselbund löschen.")
    token_delete.add_argument("--for", dest="kind", choices=KINDS, required=True,
                              help="model: Sprachmodell im Rechenzentrum; knowledge: Fachbereichswissen")
    remote_sub.add_parser("check", help="Alle eingetragenen Endpunkte im Rechenzentrum prüfen (Exit 0 = alle erreichbar).")
    return remote


def run_remote(args: argparse.Namespace, config: EffectiveConfig, tools: RemoteTools, *,
               stdin: TextIO | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    try:
        if args.remote_command == "token":
            if args.token_command == "set":
                return _token_set(args.kind, tools, stdin, out, err)
            return _token_delete(args.kind, tools, out)
        return run_check(config, tools, out=out)
    except AktenlotseError as error:
        print(f"Fehler: {error.user_message}", file=err)
        return 2


def _read_token(stdin: TextIO, err: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass("Token (Eingabe wird nicht angezeigt): ", stream=err)
    return stdin.readline().strip()


def _token_set(kind: str, tools: RemoteTools, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    token = _read_token(stdin, err).strip()
    if not token:
        print("Fehler: Kein Token eingegeben; es wurde nichts gespeichert.", file=err)
        return 2
    tools.set_token(kind, token)
    print(f"Token für „{_label(kind)}“ im Schlüsselbund gespeichert.", file=out)
    return 0


def _token_delete(kind: str, tools: RemoteTools, out: TextIO) -> int:
    if tools.delete_token(kind):
        print(f"Token für „{_label(kind)}“ aus dem Schlüsselbund gelöscht.", file=out)
    else:
        print(f"Für „{_label(kind)}“ war kein Token hinterlegt.", file=out)
    return 0


def _label(kind: str) -> str:
    return MODEL_PURPOSE if kind == "model" else KNOWLEDGE_PURPOSE


def run_check(config: EffectiveConfig, tools: RemoteTools, *, out: TextIO) -> int:
    if config.policy_error is not None:
        print(f"Fehler: {config.policy_error.user_message}", file=out)
        return 2
    settings = config.settings
    model_url, knowledge_url = settings.remote_model_url, settings.shared_knowledge_url
    if not model_url and not knowledge_url:
        print("Kein Endpunkt im Rechenzentrum eingetragen: Aktenlotse arbeitet vollständig offline.", file=out)
        return 0
    ca_bundle: Path | None = settings.remote_ca_bundle
    timeout = float(settings.remote_timeout_seconds)
    ok = True
    if model_url:
        ok &= _check_model(model_url, settings.remote_model_name or "", ca_bundle, timeout,
                           int(settings.remote_retries), tools, out)
    if knowledge_url:
        ok &= _check_knowledge(knowledge_url, ca_bundle, timeout, tools, out)
        if ok and tools.make_knowledge is not None:
            ok &= _check_collections(knowledge_url, list(settings.shared_collections), ca_bundle, timeout, tools,
                                     out)
    return 0 if ok else 1


def _check_model(url: str, name: str, ca_bundle: Path | None, timeout: float, retries: int, tools: RemoteTools,
                 out: TextIO) -> bool:
    status = tools.get_token("model")
    try:
        endpoint = parse_endpoint(url, MODEL_PURPOSE)
        model = tools.make_model(url, name, token=status.token, ca_bundle=ca_bundle, timeout=timeout,
                                 retries=retries)
        try:
            model.load()
        finally:
            model.close()
    except AktenlotseError as error:
        print(f"FEHLER  {MODEL_PURPOSE}: {error.user_message}", file=out)
        return False
    note = "" if status.token else f" – {status.message}"
    print(f"OK      {MODEL_PURPOSE}: {endpoint.base_url}, Modell „{name}“{note}", file=out)
    return True


def _check_knowledge(url: str, ca_bundle: Path | None, timeout: float, tools: RemoteTools, out: TextIO) -> bool:
    status = tools.get_token("knowledge")
    try:
        endpoint = parse_endpoint(url, KNOWLEDGE_PURPOSE)
        reason = tools.probe(endpoint.base_url + "/api/v2/heartbeat", ca_bundle=ca_bundle, token=status.token,
                             timeout=timeout)
    except AktenlotseError as error:
        print(f"FEHLER  {KNOWLEDGE_PURPOSE}: {error.user_message}", file=out)
        return False
    if reason:
        print(f"FEHLER  {KNOWLEDGE_PURPOSE}: {endpoint.display} – {reason}", file=out)
        return False
    note = "" if status.token else f" – {status.message}"
    print(f"OK      {KNOWLEDGE_PURPOSE}: {endpoint.base_url}{note}", file=out)
    return True


def _check_collections(url: str, collections: list[str], ca_bundle: Path | None, timeout: float,
                       tools: RemoteTools, out: TextIO) -> bool:
    if not collections:
        print(f"FEHLER  {KNOWLEDGE_PURPOSE}: In der Richtlinie ist keine Sammlung genannt (shared_collections).",
              file=out)
        return False
    assert tools.make_knowledge is not None
    knowledge = tools.make_knowledge(url, collections, token=tools.get_token("knowledge").token,
                                     ca_bundle=ca_bundle, timeout=timeout)
    try:
        counts = knowledge.describe()
    except AktenlotseError as error:
        print(f"FEHLER  {KNOWLEDGE_PURPOSE}: {error.user_message}", file=out)
        return False
    finally:
        knowledge.close()
    listed = ", ".join(f"„{name}“ ({count} Abschnitte)" for name, count in counts)
    print(f"OK      {KNOWLEDGE_PURPOSE}: Sammlungen {listed}", file=out)
    return True
