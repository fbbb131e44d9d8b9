#!/usr/bin/env python3
"""Speed peer for `rapport-bench`: the strongest simple Python a user could write in an afternoon.

A length-sorted torch loop over the same encoder (sentence-transformers/all-MiniLM-L6-v2 from a local
folder, loaded with transformers' AutoModel), bf16 autocast on the CPU (or --device cuda), mean
pooling, truncation at 256 tokens, batches of up to --max-tokens padded tokens after sorting the
messages by length: one input per message, no sentence splitting. Prints one JSON object on stdout.

It computes embeddings only (no heads): a SPEED peer, measuring what the encoder costs when driven
well from Python.

Usage:
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python torch_loop_bench.py \
      --model-dir DIR --input rows.jsonl [--threads 2] [--max-length 256] [--max-tokens 8192]
"""
import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--input", required=True, help='JSON Lines with {"id", "text"}')
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=8192, help="padded tokens per batch")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-bf16", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    t_import = time.perf_counter()
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    import_s = time.perf_counter() - t_import

    t_load = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(a.model_dir, local_files_only=True)
    model = AutoModel.from_pretrained(a.model_dir, local_files_only=True).eval()
    device = torch.device(a.device)
    model.to(device)
    load_s = time.perf_counter() - t_load

    texts = []
    with open(a.input, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])

    # Tokenize, then sort by length so that batches carry little padding (inside the timed region:
    # it is part of what the loop does).
    t_inf = time.perf_counter()
    enc = tokenizer(texts, truncation=True, max_length=a.max_length)["input_ids"]
    order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
    out = [None] * len(enc)
    padded = 0
    bf16 = not a.no_bf16
    with torch.inference_mode():
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end + 1 - start) * len(enc[order[end]]) <= a.max_tokens:
                end += 1
            idx = order[start:end]
            n = len(enc[idx[-1]])
            ids = torch.zeros(len(idx), n, dtype=torch.long)
            mask = torch.zeros(len(idx), n, dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, : len(enc[i])] = torch.tensor(enc[i])
                mask[r, : len(enc[i])] = 1
            padded += ids.numel()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                h = model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
            m = mask.to(device).unsqueeze(-1).to(h.dtype)
            pooled = ((h * m).sum(1) / m.sum(1).clamp(min=1)).float().cpu()
            for r, i in enumerate(idx):
                out[i] = pooled[r]
            start = end
    inference_s = time.perf_counter() - t_inf
    assert all(o is not None for o in out)
    n = len(texts)
    json.dump({
        "tool": "python torch loop",
        "note": "speed peer only: embeddings, no heads; length-sorted batches, bf16 autocast",
        "messages": n,
        "sequences": n,
        "tokens_encoded": sum(len(e) for e in enc),
        "tokens_with_padding": padded,
        "truncated_sequences": sum(1 for e in enc if len(e) >= a.max_length),
        "max_length": a.max_length,
        "max_tokens": a.max_tokens,
        "bf16": bf16,
        "torch_threads": torch.get_num_threads(),
        "device": a.device,
        "seconds": round(inference_s, 3),
        "messages_per_s": round(n / inference_s, 2) if inference_s > 0 else None,
        "import_seconds": round(import_s, 3),
        "load_seconds": round(load_s, 3),
        "import_and_load_seconds": round(import_s + load_s, 3),
        "total_seconds_in_process": round(time.perf_counter() - T0, 3),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__},
    }, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
