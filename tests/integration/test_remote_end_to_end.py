"""The product wired by its composition root against real servers on 127.0.0.1: a policy names the data-centre
model (`python -m llama_cpp.server` with the test model, every request recorded server-side) and a Chroma server
with a departmental collection (filled with `aktenlotse shared publish`). Then, as a caseworker's PC would:
`aktenlotse index` the case file, `aktenlotse search` (fused local + Fachbereich hits), `aktenlotse ask` (the
question and passages go to the data centre pseudonymised; the answer comes back), and the audit log says where
requests went and that pseudonymisation ran – without any identifier in it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.servers import start_chroma_server, start_llama_server

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
IDENTIFIERS = ("Korte", "Sabine", "32.4-SN/0815/2025", "0815", "Jonas Weber", "Marktplatz 7", "Marktplatz 9",
               "Herbert Sommer")

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, test_model_path: Path):
    work = tmp_path_factory.mktemp("remote-e2e")
    llama = start_llama_server(work / "llama", n_ctx=4096)  # what the client assumes when nobody says
    chroma = start_chroma_server(work / "chroma")
    akte = work / "akten" / "sondernutzung"
    shutil.copytree(FIXTURES / "akte_sondernutzung", akte)
    laws = work / "verfahrensrecht"
    laws.mkdir()
    shutil.copy(FIXTURES / "laws" / "vwvfg_auszug.md", laws)
    policy = work / "policy.toml"
    policy.write_text(
        f'allowed_roots = ["{work / "akten"}"]\n'
        f'remote_model_url = "{llama.base_url}/v1"\nremote_model_name = "aktenlotse-test"\n'
        f'shared_knowledge_url = "{chroma.base_url}"\nshared_collections = ["Verfahrensrecht"]\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "AKTENLOTSE_POLICY": str(policy),
           "AKTENLOTSE_HOME": str(work / "home"), "QT_QPA_PLATFORM": "offscreen"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600, check=False)

    published = cli("shared", "publish", "--url", chroma.base_url, "--collection", "Verfahrensrecht", str(laws))
    assert published.returncode == 0, published.stdout + published.stderr
    indexed = cli("index", str(akte))
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    yield {"cli": cli, "llama": llama, "chroma": chroma, "work": work}
    llama.stop()
    chroma.stop()


def test_search_fuses_the_own_case_file_with_the_departmental_collection(setup) -> None:
    result = setup["cli"]("search", "Anhörung Beteiligter vor Erlass eines Verwaltungsakts", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    shared = [h for h in hits if h["collection"] == "Verfahrensrecht"]
    local = [h for h in hits if h["collection"] == ""]
    assert shared and local, [(h["collection"], h["file"]) for h in hits]
    assert shared[0]["location"].startswith("Fachbereich „Verfahrensrecht“: vwvfg_auszug.md")
    assert any("§ 28" in h["heading"] for h in shared)
    assert all(Path(h["file"]).parent.name == "sondernutzung" for h in local)


def test_ask_goes_to_the_data_centre_pseudonymised_and_is_audited(setup) -> None:
    llama = setup["llama"]
    before = len(llama.captured())
    result = setup["cli"]("ask", "Bis wann muss Frau Sabine Korte den Nachweis über die Betriebshaftpflicht "
                                 "einreichen (Aktenzeichen 32.4-SN/0815/2025)?", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["draft"] is True and answer["sources"], answer

    chats = [r for r in llama.captured()[before:] if r["path"] == "/v1/chat/completions"]
    assert chats, "the question did not reach the data-centre model"
    for request in chats:
        body = request["body"]
        sent = "\n".join(m["content"] for m in json.loads(body)["messages"])
        for identifier in IDENTIFIERS:
            assert identifier not in body and identifier not in sent, identifier
        assert "[PERSON_1]" in sent and "[AKTENZEICHEN_1]" in sent  # the question, masked
        assert "Betriebshaftpflicht" in sent  # the matter itself still goes: the model needs it
        assert "authorization" not in {k.lower() for k in request["headers"]}  # no token configured here
        assert not any(k.lower().startswith("x-stainless") for k in request["headers"])

    exported = setup["cli"]("audit", "export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    records = json.loads(exported.stdout)
    requests = [r["fields"] for r in records if r["action"] == "ai_request" and r["fields"]["feature"] == "lookup"]
    assert requests, [r["action"] for r in records]
    last = requests[-1]
    assert last["remote"] == f"{llama.base_url}/v1" and last["pseudonymised"] is True
    assert last["masked"]["PERSON"] >= 1 and last["masked"]["AKTENZEICHEN"] >= 1
    policies = [r["fields"] for r in records if r["action"] == "policy_loaded"]
    assert policies and f"{llama.base_url}/v1" in policies[-1]["remote_endpoints"]
    for identifier in IDENTIFIERS:
        assert identifier not in exported.stdout, identifier


def test_doctor_and_remote_check_name_both_endpoints(setup) -> None:
    checked = setup["cli"]("remote", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("OK") == 3, checked.stdout  # model, knowledge server, its collections
    assert re.search(r"Sammlungen „Verfahrensrecht“ \(\d+ Abschnitte\)", checked.stdout), checked.stdout

    # a collection the server does not have: named, exit 1
    policy = setup["work"] / "policy_unknown.toml"
    policy.write_text(f'shared_knowledge_url = "{setup["chroma"].base_url}"\nshared_collections = ["Baurecht"]\n',
                      encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "AKTENLOTSE_POLICY": str(policy),
           "AKTENLOTSE_HOME": str(setup["work"] / "home")}
    unknown = subprocess.run([sys.executable, "-m", "app", "remote", "check"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=120, check=False)
    assert unknown.returncode == 1 and "Baurecht" in unknown.stdout, unknown.stdout + unknown.stderr
    doctor = json.loads(setup["cli"]("doctor", "--json").stdout)
    assert [e["purpose"] for e in doctor["network"]["remote_endpoints"]] == ["Sprachmodell", "Fachbereichswissen"]
