#!/usr/bin/env python3
"""VADER peer for `rapport bench`: vaderSentiment's SentimentIntensityAnalyzer over each message's
whole text, the way most users call it. Reads JSON Lines {"id", "text"}, prints one JSON object with
the timing (scoring only; the import and the lexicon load are timed apart) and the share of
messages VADER calls negative (compound <= -0.05).

  python vader_bench.py --input rows.jsonl
"""
import argparse
import json
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True, help='JSON Lines with {"id", "text"}')
    a = ap.parse_args()
    t0 = time.perf_counter()
    import vaderSentiment
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    load_s = time.perf_counter() - t0
    with open(a.input, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    t = time.perf_counter()
    negative = 0
    for text in texts:
        if analyzer.polarity_scores(text)["compound"] <= -0.05:
            negative += 1
    seconds = time.perf_counter() - t
    n = len(texts)
    version = getattr(vaderSentiment, "__version__", None)
    if version is None:
        from importlib.metadata import version as v

        version = v("vaderSentiment")
    json.dump(
        {
            "tool": "vaderSentiment",
            "messages": n,
            "negative_share": round(negative / n, 4) if n else None,
            "seconds": round(seconds, 3),
            "messages_per_s": round(n / seconds, 2) if seconds > 0 else None,
            "import_and_load_seconds": round(load_s, 3),
            "versions": {"python": sys.version.split()[0], "vaderSentiment": version},
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
