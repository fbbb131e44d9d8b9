#!/usr/bin/env python3
"""The email tone corpus: which Enron sent bodies are labelled, the labelling batches, agreement.

Only ids and labels live in the repository (models/email-tone/); the bodies stay in
../shared/datasets/enron/aeslc_train.jsonl. Standard library only.

  scripts/tone-corpus.py select                    # models/email-tone/sample.tsv (seeded, reproducible)
  scripts/tone-corpus.py batches OUT --pass 1 --size 200   # labelling batches for annotators (bodies!)
  scripts/tone-corpus.py collect OUT --pass 1      # batches' labels -> models/email-tone/pass1.tsv
  scripts/tone-corpus.py agreement                 # Cohen's kappa per tag and for the message label
  scripts/tone-corpus.py gold                      # one label per body: models/email-tone/gold.tsv

Sampling (select):
- population: sent bodies of 1-300 words, one per distinct body text (the first id in file order);
- the 300 bodies of the earlier calibration set (models/calibration/sample-ids.txt) are kept, in
  their own strata (random / cue);
- a random stratum drawn uniformly from the population, and a cue stratum drawn uniformly from the
  rest of the population whose text matches the cue filter below (enrichment for positives). Rates are
  estimated on the random stratum alone; the cue stratum is there to give the model positives.
- split by Enron user (no user on both sides): dev users are drawn at random (seeded) until about
  a fifth of the sample is dev.

A labelling batch shows the subject and the body one AESLC line per numbered row (the corpus's own
sentence split); the annotators never see the stratum, any model score or the other pass.
"""
import argparse
import hashlib
import collections
import json
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("RAPPORT_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
AESLC = os.path.join(DATA, "enron", "aeslc_train.jsonl")
CORPUS = os.path.join(ROOT, "models", "email-tone")
CALIBRATION = os.path.join(ROOT, "models", "calibration", "sample-ids.txt")
SEED = 20261130
N_RANDOM = 1800
N_CUE = 1200
DEV_SHARE = 0.2
MAX_WORDS = 300
TAGS = ["curt", "demanding", "passive_aggressive", "condescending", "sarcastic", "blame",
        "hostile", "shouting", "not_prose"]
LABELS = ["none", "some", "high"]

CAPS = re.compile(r"\b(?!ENRON|FERC|ISDA|ECT|HOU|EES|ENA|EOL|CAISO|NYMEX|NYSE|CFTC)[A-Z]{4,}\b")
CUE_WORDS = re.compile(
    r"!!|\?\?|"
    r"\b(asap|immediately|obviously|clearly|ridiculous|unacceptable|disappoint\w*|frustrat\w*|fault|"
    r"mistake|supposed to|should have|as i (said|mentioned|stated|told you)|per my|as previously|"
    r"whatever|urgent|right now|by (today|tomorrow|noon|eod)|thanks for nothing|sure you|even you|not my|"
    r"no idea|seriously|i told you|you didn't|you did not|you never|you always|why (did|didn't|haven't|is|are)|"
    r"again\?|still (haven't|not|waiting)|have not (heard|received)|must|i need|you need to|make sure|"
    r"do not|don't|never|wrong|problem|upset|complain\w*|angry|sorry)\b",
    re.IGNORECASE,
)


STRONG_WORDS = re.compile(
    r"!!|\?\?|\b(asap|immediately|obviously|clearly|ridiculous|unacceptable|disappoint\w*|frustrat\w*|fault|"
    r"mistake|supposed to|should have|as i (said|mentioned|stated|told you)|per my|as previously|whatever|urgent|"
    r"right now|thanks for nothing|even you|not my|no idea|seriously|i told you|you didn't|you did not|you never|"
    r"you always|why (did|didn't|haven't|is|are|would|do)|again\?|still (haven't|not|waiting)|have not (heard|received)|"
    r"you need to|you must|waste|stupid|idiot|damn|hell|crap|screw\w*|pissed|annoy\w*|upset|complain\w*|angry|"
    r"embarrass\w*|incompeten\w*|sloppy|unprofessional|inexcusable|pathetic|absurd|nonsense|joke)\b",
    re.IGNORECASE,
)
STRONG_CAPS = re.compile(r"\b(?!ENRON|FERC|ISDA|ECT|HOU|EES|ENA|EOL|CAISO|NYMEX|NYSE|CFTC|GISB|NGPL|ASAP|FYI|PLEASE)[A-Z]{4,}\b")
N_INBOX = 700


def strong_cue(text):
    """The second, stricter cue filter (after pass 1 showed the first one enriched little): about
    10% of the pass-1 bodies it matches were labelled some/high, against 2.7% of the others."""
    return bool(STRONG_WORDS.search(text) or len(STRONG_CAPS.findall(text)) >= 2)


def cue(text):
    """The cue filter: a word or mark that often comes with a put-off tone (or a word in capitals)."""
    return bool(CUE_WORDS.search(text) or CAPS.search(text))


def user_of(id_):
    # train/allen-p_sent_161.subject -> allen-p (and train/allen-p_inbox_20.subject -> allen-p)
    return re.sub(r"_(sent|inbox)_\d+\.subject$", "", id_.split("/", 1)[1])


def load_sent(folder="sent"):
    if not os.path.exists(AESLC):
        sys.exit(f"tone-corpus: {AESLC} is missing: the corpus needs ../shared/datasets beside the checkout")
    rows = {}
    seen_bodies = set()
    with open(AESLC, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["folder"] != folder:
                continue
            body = r["body"]
            words = len(body.split())
            if not (1 <= words <= MAX_WORDS) or body in seen_bodies:
                continue
            seen_bodies.add(body)
            rows[r["id"]] = r
    return rows


def read_tsv(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            out.append(line.rstrip("\n").split("\t"))
    return out


def cmd_select(_args):
    rows = load_sent()
    rng = random.Random(SEED)
    calib = {r[0]: r[1] for r in read_tsv(CALIBRATION)}
    missing = [i for i in calib if i not in rows]
    if missing:
        sys.exit(f"tone-corpus: {len(missing)} calibration ids are not in the population, e.g. {missing[0]}")
    ids = sorted(rows)
    strata = {i: s for i, s in calib.items()}
    pool = [i for i in ids if i not in strata]
    rng.shuffle(pool)
    n_rand = N_RANDOM - sum(1 for s in strata.values() if s == "random")
    for i in pool[:n_rand]:
        strata[i] = "random"
    rest = [i for i in pool[n_rand:] if cue(rows[i]["body"])]
    n_cue = N_CUE - sum(1 for s in strata.values() if s == "cue")
    for i in rest[:n_cue]:
        strata[i] = "cue"
    # dev users: drawn at random until about DEV_SHARE of the sample
    per_user = collections.Counter(user_of(i) for i in strata)
    users = sorted(per_user)
    rng.shuffle(users)
    dev, n = set(), 0
    for u in users:
        if n >= DEV_SHARE * len(strata):
            break
        if n + per_user[u] > (DEV_SHARE + 0.05) * len(strata):
            continue  # a user so large that it would overshoot stays in train
        dev.add(u)
        n += per_user[u]
    # Extension (added after pass 1): every remaining sent body that matches the strong cue filter
    # (stratum cue2), and inbox bodies (mail Enron people received, much of it from customers and
    # counterparties) that match it (stratum inbox_cue), drawn at random.
    base = set(strata)
    for i in ids:
        if i not in base and strong_cue(rows[i]["body"]):
            strata[i] = "cue2"
    inbox = load_sent("inbox")
    inbox_ids = [i for i in sorted(inbox) if strong_cue(inbox[i]["body"])]
    rng2 = random.Random(SEED + 1)
    rng2.shuffle(inbox_ids)
    for i in inbox_ids[:N_INBOX]:
        strata[i] = "inbox_cue"
    for u in sorted({user_of(i) for i in strata} - set(per_user)):
        # users who appear only in the extension: dev with probability DEV_SHARE, by a stable hash
        if int.from_bytes(hashlib.sha256(u.encode()).digest()[:8], "big") % 100 < DEV_SHARE * 100:
            dev.add(u)
    cue_in_population = sum(1 for i in ids if cue(rows[i]["body"]))
    os.makedirs(CORPUS, exist_ok=True)
    # labelling order: shuffled, so that no batch is all one stratum
    order = sorted(base)
    rng.shuffle(order)
    ext = sorted(set(strata) - base)
    rng2.shuffle(ext)
    order += ext
    with open(os.path.join(CORPUS, "sample.tsv"), "w", encoding="utf-8") as f:
        f.write(f"# email tone corpus sample (scripts/tone-corpus.py select, seed {SEED}).\n")
        f.write(f"# population: {len(ids)} distinct Enron sent bodies of 1-{MAX_WORDS} words in aeslc_train.jsonl;"
                f" {cue_in_population} of them match the cue filter.\n")
        f.write("# stratum random: drawn uniformly from the population; cue: drawn uniformly from the rest of the"
                " population that matches the cue filter.\n")
        f.write(f"# extension after pass 1: cue2: every other sent body matching the strong cue filter; inbox_cue: {N_INBOX}"
                " inbox bodies (1-300 words, distinct) matching it, drawn at random.\n")
        f.write("# id\tstratum\tuser\tsplit\n")
        for i in order:
            split = "dev" if user_of(i) in dev else "train"
            f.write(f"{i}\t{strata[i]}\t{user_of(i)}\t{split}\n")
    c = collections.Counter((strata[i], "dev" if user_of(i) in dev else "train") for i in order)
    print(f"population {len(ids)} (cue {cue_in_population}); sample {len(order)}: {dict(c)}; dev users {len(dev)}")


def sample():
    return read_tsv(os.path.join(CORPUS, "sample.tsv"))


def load_all():
    rows = load_sent()
    rows.update(load_sent("inbox"))
    return rows


def cmd_batches(args):
    rows = load_all()
    items = [r[0] for r in sample()]
    if args.ids:
        wanted = [l.split("\t")[0].strip() for l in open(args.ids) if l.strip() and not l.startswith("#")]
        items = wanted
    for b in range(0, len(items), args.size):
        chunk = items[b:b + args.size]
        folder = os.path.join(args.out, f"pass{args.pass_}", f"batch-{b // args.size + 1:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "items.txt"), "w", encoding="utf-8") as f:
            for k, i in enumerate(chunk, 1):
                r = rows[i]
                f.write(f"=== ITEM {k} id={i}\n")
                f.write(f"Subject: {r['subject']}\n")
                for n, line in enumerate(sentences(r["body"]), 1):
                    f.write(f"S{n}: {line}\n")
                f.write("\n")
        print(folder, len(chunk))


def sentences(body):
    return [l.strip() for l in body.split("\n") if l.strip()]


def parse_labels(path):
    """labels.tsv: id<TAB>label<TAB>S2:curt,demanding;S5:not_prose (empty third column: no tags)."""
    out = {}
    for n, cols in enumerate(read_tsv(path), 1):
        if len(cols) < 2:
            raise ValueError(f"{path}:{n}: expected id<TAB>label<TAB>tags")
        id_, label = cols[0].strip(), cols[1].strip().lower()
        if label not in LABELS:
            raise ValueError(f"{path}:{n}: label {label!r} is not one of {LABELS}")
        tags = {}
        spec = cols[2].strip() if len(cols) > 2 else ""
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            s, _, names = part.partition(":")
            s = int(s.strip().lstrip("Ss"))
            names = [t.strip().lower() for t in names.split(",") if t.strip()]
            bad = [t for t in names if t not in TAGS]
            if bad:
                raise ValueError(f"{path}:{n}: unknown tag {bad[0]!r}")
            tags.setdefault(s, set()).update(names)
        out[id_] = (label, tags)
    return out


def cmd_collect(args):
    rows = load_all()
    base = os.path.join(args.out, f"pass{args.pass_}")
    merged = {}
    for folder in sorted(os.listdir(base)):
        path = os.path.join(base, folder, "labels.tsv")
        items = [l.split("id=", 1)[1].strip() for l in open(os.path.join(base, folder, "items.txt"))
                 if l.startswith("=== ITEM")]
        if not os.path.exists(path):
            print(f"{folder}: no labels.tsv yet", file=sys.stderr)
            continue
        labels = parse_labels(path)
        missing = [i for i in items if i not in labels]
        extra = [i for i in labels if i not in items]
        if missing or extra:
            print(f"{folder}: {len(missing)} items unlabelled, {len(extra)} unknown ids", file=sys.stderr)
        for i in items:
            if i in labels:
                n = len(sentences(rows[i]["body"]))
                label, tags = labels[i]
                bad = [s for s in tags if not 1 <= s <= n]
                if bad:
                    print(f"{folder}: {i}: sentence S{bad[0]} out of range 1..{n}; dropped", file=sys.stderr)
                merged[i] = (label, {s: t for s, t in tags.items() if 1 <= s <= n})
    order = [r[0] for r in sample()] if not args.ids else [
        l.split("\t")[0].strip() for l in open(args.ids) if l.strip() and not l.startswith("#")]
    dest = os.path.join(CORPUS, f"pass{args.pass_}.tsv")
    with open(dest, "w", encoding="utf-8") as f:
        f.write(f"# email tone corpus, labelling pass {args.pass_} against models/calibration/RUBRIC.md (v2).\n")
        f.write("# id\tlabel\tsentence tags (S<row>:<tag>,<tag>;...; rows are the body's non-empty AESLC lines)\n")
        for i in order:
            if i in merged:
                label, tags = merged[i]
                spec = ";".join(f"S{s}:{','.join(sorted(t))}" for s, t in sorted(tags.items()) if t)
                f.write(f"{i}\t{label}\t{spec}\n")
    print(f"{dest}: {sum(1 for i in order if i in merged)} of {len(order)} labelled")


def kappa(a, b):
    n = len(a)
    if n == 0:
        return float("nan")
    cats = sorted(set(a) | set(b))
    po = sum(x == y for x, y in zip(a, b)) / n
    pe = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    return 1.0 if pe >= 1 else (po - pe) / (1 - pe)


def cmd_agreement(args):
    rows = load_all()
    p1 = parse_labels(os.path.join(CORPUS, "pass1.tsv"))
    p2 = parse_labels(os.path.join(CORPUS, "pass2.tsv"))
    both = [i for i in p2 if i in p1]
    out = {"messages": len(both)}
    a = [LABELS.index(p1[i][0]) for i in both]
    b = [LABELS.index(p2[i][0]) for i in both]
    out["message_label"] = {"kappa_3_class": kappa(a, b),
                            "kappa_any_risk": kappa([x > 0 for x in a], [x > 0 for x in b]),
                            "agreement": sum(x == y for x, y in zip(a, b)) / max(1, len(a)),
                            "pass1_counts": [a.count(k) for k in range(3)],
                            "pass2_counts": [b.count(k) for k in range(3)]}
    per_tag = {}
    n_sent = 0
    for t in TAGS:
        xa, xb = [], []
        for i in both:
            n = len(sentences(rows[i]["body"]))
            for s in range(1, n + 1):
                xa.append(t in p1[i][1].get(s, ()))
                xb.append(t in p2[i][1].get(s, ()))
        n_sent = len(xa)
        per_tag[t] = {"kappa": kappa(xa, xb), "pass1": sum(xa), "pass2": sum(xb), "both": sum(x and y for x, y in zip(xa, xb))}
    # any tone tag (every tag but not_prose)
    xa, xb = [], []
    for i in both:
        n = len(sentences(rows[i]["body"]))
        for s in range(1, n + 1):
            xa.append(bool(p1[i][1].get(s, set()) - {"not_prose"}))
            xb.append(bool(p2[i][1].get(s, set()) - {"not_prose"}))
    per_tag["any_tone_tag"] = {"kappa": kappa(xa, xb), "pass1": sum(xa), "pass2": sum(xb), "both": sum(x and y for x, y in zip(xa, xb))}
    out["sentences"] = n_sent
    out["tags"] = per_tag
    strata = {r[0]: r[1] for r in sample()}
    rnd = [i for i in p1 if strata.get(i) == "random"]
    out["pass1_rates_random_stratum"] = {
        "messages": len(rnd),
        "some_or_high": sum(p1[i][0] != "none" for i in rnd) / max(1, len(rnd)),
        "high": sum(p1[i][0] == "high" for i in rnd) / max(1, len(rnd)),
    }
    dest = os.path.join(CORPUS, "agreement.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(json.dumps(out, indent=2))


def cmd_gold(_args):
    """models/email-tone/gold.tsv: one label per body, for training and evaluation. Train bodies: pass 1.
    Dev bodies (labelled twice): the message label both passes gave, or the majority with pass 3 (the
    tie-break over the disagreements); a sentence tag when either pass gave it."""
    p1 = parse_labels(os.path.join(CORPUS, "pass1.tsv"))
    p2 = parse_labels(os.path.join(CORPUS, "pass2.tsv"))
    p3_path = os.path.join(CORPUS, "pass3.tsv")
    p3 = parse_labels(p3_path) if os.path.exists(p3_path) else {}
    rows = sample()
    counts = collections.Counter()
    with open(os.path.join(CORPUS, "gold.tsv"), "w", encoding="utf-8") as f:
        f.write("# email tone corpus, one label per body (scripts/tone-corpus.py gold). Train: pass 1. Dev: both passes'\n")
        f.write("# label when they agree, else the majority with pass 3; sentence tags: either pass.\n")
        f.write("# id\tstratum\tuser\tsplit\tlabel\tsentence tags\n")
        for id_, stratum, user, split in rows:
            if id_ not in p1:
                continue
            label, tags = p1[id_]
            how = "pass1"
            if id_ in p2:
                l2, t2 = p2[id_]
                if l2 != label:
                    votes = [label, l2] + ([p3[id_][0]] if id_ in p3 else [])
                    # majority on "any risk", then the lower of the labels on that side
                    risky = sum(v != "none" for v in votes) * 2 > len(votes)
                    side = sorted((v for v in votes if (v != "none") == risky), key=LABELS.index)
                    label = side[0]
                    how = "majority"
                else:
                    how = "agreed"
                merged = {}
                for s_, t in list(tags.items()) + list(t2.items()):
                    merged.setdefault(s_, set()).update(t)
                tags = merged
            counts[(split, how, label)] += 1
            spec = ";".join(f"S{s_}:{','.join(sorted(t))}" for s_, t in sorted(tags.items()) if t)
            f.write(f"{id_}\t{stratum}\t{user}\t{split}\t{label}\t{spec}\n")
    for k, v in sorted(counts.items()):
        print(k, v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("select")
    for name in ("batches", "collect"):
        p = sub.add_parser(name)
        p.add_argument("out")
        p.add_argument("--pass", dest="pass_", type=int, default=1)
        p.add_argument("--size", type=int, default=200)
        p.add_argument("--ids", help="label these ids (a file, one per line) instead of the whole sample")
    sub.add_parser("agreement")
    sub.add_parser("gold")
    args = ap.parse_args()
    {"select": cmd_select, "batches": cmd_batches, "collect": cmd_collect, "agreement": cmd_agreement, "gold": cmd_gold}[args.cmd](args)


if __name__ == "__main__":
    main()
