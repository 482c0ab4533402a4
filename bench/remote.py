"""Remote model backend: throughput and latency with 1 and with 4 concurrent clients.

    python bench/remote.py [--model PATH] [--requests 8] [--max-tokens 32] [--threads N]

Starts llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, via tests/servers/servers.py) on
127.0.0.1 with the test model (or `--model`), and sends the same chat requests through `OpenAICompatibleModel` – the
client the app uses – first one at a time, then from 4 client threads at once. Per run: requests, median and p95
time to the first text piece and total latency, text pieces per second over the whole run (aggregate), and the ratios
4-client / 1-client throughput and median latency. Prints, never asserts.

llama-cpp-python's server holds one model and serves one request at a time: `get_llama_proxy` in
llama_cpp/server/app.py wraps every completion in `llama_outer_lock`/`llama_inner_lock` (anyio Locks), so
concurrent requests queue. Expect a throughput ratio near 1 and a 4-client latency of about 4 × the single one.
By default (`interrupt_requests=True`) that server also *ends the running stream* (with [DONE], no finish_reason)
as soon as another request waits; the client reports such an answer as cut off. The bench therefore starts the
server with INTERRUPT_REQUESTS=false (pydantic-settings reads it) so requests queue; `--interrupt` keeps the
server's default and counts the cut-off answers.
A vLLM server in the data centre batches concurrent requests; these figures say nothing about it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.adapters.remote_model import OpenAICompatibleModel
from app.core.errors import RemoteError
from app.core.llm import ChatMessage, GenerationParams
from app.core.progress import CancelToken
from tests.servers.servers import TEST_MODEL, start_llama_server

MODEL_NAME = "aktenlotse-bench"
PROMPTS = [
    "Erkläre in zwei Sätzen, was ein Verwaltungsakt ist.",
    "Nenne drei Pflichtangaben in einem Bescheid.",
    "Was bedeutet Widerspruchsfrist?",
    "Formuliere einen höflichen Satz zur Eingangsbestätigung eines Antrags.",
]


@dataclass(frozen=True)
class Sample:
    first_piece: float
    total: float
    pieces: int
    failed: str = ""


def one_request(model: OpenAICompatibleModel, i: int, max_tokens: int) -> Sample:
    messages = [ChatMessage("system", "Du antwortest knapp und sachlich auf Deutsch."),
                ChatMessage("user", PROMPTS[i % len(PROMPTS)])]
    params = GenerationParams(max_tokens=max_tokens, temperature=0.2, seed=i)
    started = time.perf_counter()
    first, pieces = 0.0, 0
    try:
        for _ in model.stream_chat(messages, params, CancelToken()):
            if pieces == 0:
                first = time.perf_counter() - started
            pieces += 1
    except RemoteError as error:
        return Sample(first, time.perf_counter() - started, pieces, error.user_message)
    return Sample(first, time.perf_counter() - started, pieces)


def run(model: OpenAICompatibleModel, clients: int, requests: int, max_tokens: int) -> tuple[list[Sample], float]:
    samples: list[Sample] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            sample = one_request(model, i, max_tokens)
            with lock:
                samples.append(sample)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - started


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(label: str, samples: list[Sample], wall: float) -> tuple[float, float]:
    failed = [s for s in samples if s.failed]
    complete = [s for s in samples if not s.failed] or samples
    firsts, totals = [s.first_piece for s in complete], [s.total for s in complete]
    pieces = sum(s.pieces for s in samples)
    rate = pieces / wall
    print(f"{label}: {len(samples)} Anfragen in {wall:.2f} s, {pieces} Stücke, {len(failed)} abgebrochen")
    for sample in failed[:2]:
        print(f"  abgebrochen nach {sample.pieces} Stücken: {sample.failed}")
    print(f"  erstes Stück: Median {statistics.median(firsts) * 1000:.0f} ms, p95 {p95(firsts) * 1000:.0f} ms")
    print(f"  Gesamtdauer:  Median {statistics.median(totals) * 1000:.0f} ms, p95 {p95(totals) * 1000:.0f} ms")
    print(f"  Durchsatz:    {rate:.1f} Stücke/s (alle Clients zusammen)")
    return rate, statistics.median(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=TEST_MODEL, help="GGUF file (default: the test model)")
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads in the server (default ≤ 2)")
    parser.add_argument("--interrupt", action="store_true",
                        help="keep the server's interrupt_requests=True (a waiting request ends the running stream)")
    args = parser.parse_args()
    os.environ["INTERRUPT_REQUESTS"] = "true" if args.interrupt else "false"  # inherited by the server process
    if not args.model.exists():
        print(f"Modelldatei fehlt: {args.model}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="aktenlotse-bench-remote-") as folder:
        server = start_llama_server(Path(folder), model=args.model, capture=False, model_alias=MODEL_NAME,
                                    n_threads=args.threads)
        try:
            model = OpenAICompatibleModel(server.base_url + "/v1", MODEL_NAME, timeout=300, retries=0)
            model.load()
            one_request(model, 0, 4)  # warm-up: first request pays for lazy initialisation
            print(f"Server: llama_cpp.server auf 127.0.0.1:{server.port}, Modell {args.model.name}, "
                  f"{args.requests} Anfragen je Lauf, max_tokens={args.max_tokens}")
            print("Hinweis: llama-cpp-python bedient eine Anfrage nach der anderen (Lock um das Modell in "
                  "llama_cpp/server/app.py); gleichzeitige Anfragen warten in der Schlange "
                  f"(interrupt_requests={'an' if args.interrupt else 'aus'}).")
            rate1, median1 = report("1 Client ", *run(model, 1, args.requests, args.max_tokens))
            rate4, median4 = report("4 Clients", *run(model, 4, args.requests, args.max_tokens))
            print(f"Verhältnis Durchsatz 4/1: {rate4 / rate1:.2f}   Verhältnis Median-Latenz 4/1: "
                  f"{median4 / median1:.2f}")
            model.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
