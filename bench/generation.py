"""Tokens/s through the app's LlamaCppModel adapter vs. raw llama_cpp on the same model, prompt and parameters.

    python bench/generation.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf [--tokens 128] [--runs 3]

Two Llama instances are loaded with identical settings (threads, context, no mmap); runs alternate
between them (ABBA order) so drift in machine load hits both. The rate is the decode rate seen by the
consumer: pieces after the first one divided by the time from the first to the last piece, so prompt
processing is excluded; time to first piece is printed separately. Greedy sampling with a fixed seed
makes both sides produce the same text, which is checked. Prints, never asserts (target ratio >= 0.97).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.adapters.llama_cpp_model import LlamaCppModel  # noqa: E402
from app.adapters.model_files import GgufModelFiles  # noqa: E402
from app.core.llm import ChatMessage, GenerationParams  # noqa: E402
from app.core.progress import CancelToken  # noqa: E402

PROMPT = [
    ChatMessage("system", "Du bist ein hilfsbereiter Assistent. Antworte ausführlich auf Deutsch."),
    ChatMessage(
        "user",
        "Schreibe einen ausführlichen Bericht darüber, wie eine Stadtverwaltung einen Bauantrag bearbeitet, "
        "von der Eingangsbestätigung bis zum Bescheid, mit allen Zwischenschritten.",
    ),
]
SEED = 1234


def timed(pieces: Iterator[str]) -> tuple[list[str], float, float]:
    """(pieces, time to first piece, decode seconds from first to last piece)."""
    start = time.perf_counter()
    out: list[str] = []
    first = last = start
    for piece in pieces:
        last = time.perf_counter()
        if not out:
            first = last
        out.append(piece)
    return out, first - start, last - first


def adapter_stream(model: LlamaCppModel, max_tokens: int) -> Iterator[str]:
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, top_p=0.9, seed=SEED)
    return model.stream_chat(PROMPT, params, CancelToken())


def raw_stream(llama: object, max_tokens: int) -> Iterator[str]:
    messages = [{"role": m.role, "content": m.content} for m in PROMPT]
    for chunk in llama.create_chat_completion(  # type: ignore[attr-defined]
        messages=messages, stream=True, max_tokens=max_tokens, temperature=0.0, top_p=0.9, seed=SEED, stop=None
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            yield text


def rate(pieces: list[str], seconds: float) -> float:
    return (len(pieces) - 1) / seconds if len(pieces) > 1 and seconds > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--tokens", type=int, default=128, help="max_tokens per run")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side")
    parser.add_argument("--threads", type=int, default=None, help="default: the adapter's choice for this machine")
    parser.add_argument("--ctx", type=int, default=None, help="default: the adapter's choice (model context, max 4096)")
    args = parser.parse_args(argv)

    import llama_cpp

    info = GgufModelFiles().inspect(args.model)
    model = LlamaCppModel(info, n_threads=args.threads, n_ctx=args.ctx)
    started = time.perf_counter()
    model.load()
    print(f"adapter loaded in {time.perf_counter() - started:.1f} s: {info.display_name}, chat format "
          f"{model.chat_format}, n_ctx {model.n_ctx}, threads {model.n_threads}/{model.n_threads_batch}")  # fmt: skip
    started = time.perf_counter()
    raw = llama_cpp.Llama(
        model_path=str(args.model),
        n_ctx=model.n_ctx,
        n_threads=model.n_threads,
        n_threads_batch=model.n_threads_batch,
        n_gpu_layers=0,
        use_mmap=False,
        use_mlock=False,
        chat_format=None,
        verbose=False,
    )
    print(f"raw llama_cpp.Llama loaded in {time.perf_counter() - started:.1f} s, chat format {raw.chat_format}")

    # warm-up: prompt processed once on each side, caches and thread pools warm
    timed(adapter_stream(model, 8))
    timed(raw_stream(raw, 8))

    rates: dict[str, list[float]] = {"adapter": [], "raw": []}
    texts: dict[str, set[str]] = {"adapter": set(), "raw": set()}
    for run in range(args.runs):
        order = ("adapter", "raw") if run % 2 == 0 else ("raw", "adapter")
        for side in order:
            stream = adapter_stream(model, args.tokens) if side == "adapter" else raw_stream(raw, args.tokens)
            pieces, ttft, seconds = timed(stream)
            r = rate(pieces, seconds)
            rates[side].append(r)
            texts[side].add("".join(pieces))
            print(f"run {run + 1} {side:>7}: {len(pieces):4d} pieces, "
                  f"first after {ttft * 1000:6.1f} ms, {r:7.2f} tokens/s")  # fmt: skip

    adapter, baseline = statistics.median(rates["adapter"]), statistics.median(rates["raw"])
    best_adapter, best_raw = max(rates["adapter"]), max(rates["raw"])
    same = texts["adapter"] == texts["raw"] and len(texts["raw"]) == 1
    print(f"\nmedian adapter {adapter:.2f} tokens/s, raw {baseline:.2f} tokens/s, "
          f"ratio {adapter / baseline if baseline else float('nan'):.3f} (target >= 0.97)")  # fmt: skip
    print(f"best   adapter {best_adapter:.2f} tokens/s, raw {best_raw:.2f} tokens/s, "
          f"ratio {best_adapter / best_raw if best_raw else float('nan'):.3f} (less sensitive to other load)")  # fmt: skip
    paired = [a / r for a, r in zip(rates["adapter"], rates["raw"], strict=True) if r]
    if paired:
        print(f"paired ratio per run (adjacent ABBA runs): median {statistics.median(paired):.3f}, "
              f"min {min(paired):.3f}, max {max(paired):.3f}")  # fmt: skip
    print(f"identical output on both sides: {'yes' if same else 'NO'}")
    model.close()
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
