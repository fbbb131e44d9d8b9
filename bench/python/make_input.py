#!/usr/bin/env python3
"""Writes the benchmark input: the first N `folder == "sent"` rows of the Enron AESLC file, in file
order, as JSON Lines {"id", "text"} with text = the raw body (what `rapport score` and the Python
pipeline both read). Prints how many rows it wrote.

  python make_input.py SRC.jsonl N OUT.jsonl
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if n < 1:
        sys.exit("make_input: N must be at least 1")
    wrote = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if wrote >= n:
                break
            row = json.loads(line)
            if row.get("folder") != "sent":
                continue
            out.write(json.dumps({"id": row["id"], "text": row["body"]}) + "\n")
            wrote += 1
    if wrote < n:
        sys.exit(f"make_input: only {wrote} sent rows in {src}, asked for {n}")
    print(wrote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
