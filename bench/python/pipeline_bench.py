#!/usr/bin/env python3
"""Speed peer for `rapport score`: a transformers text-classification pipeline over the same encoder.

Reads JSON Lines {"id", "text"} (the same file `rapport score` reads), loads
sentence-transformers/all-MiniLM-L6-v2 from a local folder (HF BERT layout: model.safetensors,
config.json, tokenizer.json, vocab.txt) as AutoModelForSequenceClassification with num_labels=3,
and runs transformers.pipeline("text-classification") over every text, one input per message,
batch_size=32, truncation at 256 tokens, on the CPU (or --device cuda). Prints one JSON object on stdout.

The classification head is freshly initialised (the encoder checkpoint has none): the labels it
gives mean nothing. This is a SPEED peer only; it measures what the same encoder costs when driven
the way most Python users would drive it.

Usage:
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python pipeline_bench.py \
      --model-dir DIR --input rows.jsonl [--threads 2] [--batch-size 32] [--max-length 256]
"""
import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True, help="local encoder folder (HF BERT layout)")
    ap.add_argument("--input", required=True, help='JSON Lines with {"id", "text"}')
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (0 = leave torch's default)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (what rapport bench --device was given)")
    a = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    # --- import + load (timed apart from inference) ---------------------------------------------
    t_import = time.perf_counter()
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "newly initialized classifier" warning is expected
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    import_s = time.perf_counter() - t_import

    t_load = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(a.model_dir, local_files_only=True)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        a.model_dir, num_labels=3, local_files_only=True, output_loading_info=True
    )
    # Only the new head may be missing: the encoder itself must come from the checkpoint.
    not_loaded = sorted(k for k in info["missing_keys"] if not k.startswith("classifier."))
    if not_loaded:
        sys.exit(f"pipeline_bench: encoder weights not found in {a.model_dir}: {not_loaded[:5]}")
    model.eval()
    clf = pipeline(
        "text-classification",
        model=model,
        tokenizer=tokenizer,
        device=-1 if a.device == "cpu" else torch.device(a.device),
        batch_size=a.batch_size,
        truncation=True,
        max_length=a.max_length,
    )
    load_s = time.perf_counter() - t_load

    texts = []
    with open(a.input, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])

    # How many inputs hit the truncation limit (counted outside the timed region).
    lengths = [len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]]
    n_truncated = sum(1 for n in lengths if n > a.max_length)
    kept = [min(n, a.max_length) for n in lengths]
    # The pipeline pads each batch (in input order) to its longest sequence.
    padded = sum(
        max(kept[i : i + a.batch_size]) * len(kept[i : i + a.batch_size]) for i in range(0, len(kept), a.batch_size)
    )

    # --- inference ---------------------------------------------------------------------------
    t_inf = time.perf_counter()
    with torch.inference_mode():
        out = clf(texts)
    inference_s = time.perf_counter() - t_inf
    assert len(out) == len(texts), (len(out), len(texts))

    total_s = time.perf_counter() - T0
    n = len(texts)
    result = {
        "tool": "python transformers pipeline",
        "note": "speed peer only: classifier head freshly initialised (num_labels=3), labels are meaningless",
        "freshly_initialised": sorted(info["missing_keys"]),
        "messages": n,
        "sequences": n,
        "truncated_sequences": n_truncated,
        "tokens_untruncated": sum(lengths),
        "tokens_encoded": sum(kept),
        "tokens_with_padding": padded,
        "max_length": a.max_length,
        "batch_size": a.batch_size,
        "torch_threads": torch.get_num_threads(),
        "device": a.device,
        # inference only: the pipeline call over all messages
        "seconds": round(inference_s, 3),
        "messages_per_s": round(n / inference_s, 2) if inference_s > 0 else None,
        # import torch + transformers, then tokenizer + model + pipeline construction
        "import_seconds": round(import_s, 3),
        "load_seconds": round(load_s, 3),
        "import_and_load_seconds": round(import_s + load_s, 3),
        "total_seconds_in_process": round(total_s, 3),
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": __import__("tokenizers").__version__,
        },
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
