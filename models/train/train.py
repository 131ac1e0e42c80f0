#!/usr/bin/python3
"""Train tosia's demo cough model from the output of `tosia extract`.

Reads only what `tosia extract` wrote (manifest.csv and the .npy tensors, exactly what
execute() feeds the model) plus the dataset's metadata.json for the recording source and the raw
recordings' bytes for their content hashes. Byte-identical recordings are kept once when their
labels agree and dropped when they disagree (models/train/dataset.py). Splits by content hash,
stratified by (label, source): train 70 %, calibration 10 %, validation 20 %. The calibration
split picks the epoch and the threshold; the validation split is untouched until the final
report, which gives each AUC with a 95 % bootstrap interval.

Usage: /usr/bin/python3 models/train/train.py --extract DIR --metadata metadata.json --out models/
Needs Debian's python3-torch and python3-onnx (apt-get install python3-torch python3-onnx).
"""
import argparse
import csv
import json
import os
import random
import sys
from collections import defaultdict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import content_hashes, deduplicate, shared_hashes, split_by_hash  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261123
POSITIVE = "covid19"
LABELS = ["not_covid19", "covid19"]
NAME = "tosia-cough-demo"
VERSION = "2.0.0"
BOOTSTRAP = 2000


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


class CoughCNN(nn.Module):
    """Optional 2x2 average-pool stem, four conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool),
    global average pool, linear.

    The shipped "lite" variant (stem pool, width 8) costs about 1.1 M multiply-adds per 64x64
    image; "full" (no stem, width 16) costs 16 M for no better validation AUC on this data (see
    models/README.md), and inference was the largest cost of a batch run after decoding.
    """

    ARCHS = {"lite": {"width": 8, "stem_pool": True}, "full": {"width": 16, "stem_pool": False}}

    def __init__(self, n_classes=2, width=8, stem_pool=True, dropout=0.3):
        super().__init__()
        chans = [3, width, width * 2, width * 4, width * 8]
        blocks = [nn.AvgPool2d(2)] if stem_pool else []
        for cin, cout in zip(chans[:-1], chans[1:]):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(chans[-1], n_classes)
        self.description = self.describe(n_classes, width, stem_pool, dropout)

    @staticmethod
    def describe(n_classes=2, width=8, stem_pool=True, dropout=0.3):
        return (
            f"CoughCNN: {'avgpool2 stem, ' if stem_pool else ''}4 x (conv3x3, BN, ReLU, maxpool2) "
            f"with {width}-{width * 8} channels, global average pool, dropout {dropout}, linear({width * 8}, {n_classes})"
        )

    def forward(self, x):
        x = self.features(x)
        x = x.mean(dim=(2, 3))
        return self.head(self.dropout(x))


def auc(scores, labels):
    """ROC-AUC by the rank statistic (ties get half credit)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    pos, neg = scores[labels], scores[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    r = np.empty(len(allv))
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        r[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    ranks[order] = r
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def auc_interval(scores, labels, seed=SEED, n=BOOTSTRAP):
    """95 % percentile bootstrap interval of the ROC-AUC, resampling positives and negatives apart."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    pos, neg = scores[labels], scores[~labels]
    if len(pos) < 2 or len(neg) < 2:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        p = pos[rng.integers(0, len(pos), len(pos))]
        q = neg[rng.integers(0, len(neg), len(neg))]
        # Mann-Whitney on the resample
        vals.append(float(((p[:, None] > q[None, :]).sum() + 0.5 * (p[:, None] == q[None, :]).sum()) / (len(p) * len(q))))
    return [round(float(np.percentile(vals, 2.5)), 3), round(float(np.percentile(vals, 97.5)), 3)]


def sens_spec(scores, labels, threshold):
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=bool)
    pred = scores >= threshold
    sens = float((pred & labels).sum() / max(1, labels.sum()))
    spec = float((~pred & ~labels).sum() / max(1, (~labels).sum()))
    return sens, spec


def load(extract_dir, metadata_path, keep):
    meta = {m["filename"]: m for m in json.load(open(metadata_path))}
    rows = list(csv.DictReader(open(os.path.join(extract_dir, "manifest.csv"), newline="")))
    by_rec = defaultdict(list)
    for r in rows:
        name = os.path.basename(r["file"])
        if name not in meta or name not in keep or r["label"] not in LABELS:
            continue
        by_rec[name].append(r)
    recs = sorted(by_rec)
    X, seg_rec, y_rec, src_rec = [], [], {}, {}
    for name in recs:
        for r in by_rec[name]:
            X.append(np.load(os.path.join(extract_dir, r["tensor"])))
            seg_rec.append(name)
        y_rec[name] = 1 if by_rec[name][0]["label"] == POSITIVE else 0
        src_rec[name] = meta[name]["source"]
    return np.stack(X).astype(np.float32), np.array(seg_rec), recs, y_rec, src_rec, len(meta)


def augment(x, gen):
    """SpecAugment-style: one random time mask and one frequency mask per image, plus a small time shift."""
    b, _, h, w = x.shape
    x = x.clone()
    for i in range(b):
        t = int(torch.randint(0, w // 8 + 1, (1,), generator=gen))
        t0 = int(torch.randint(0, w - t + 1, (1,), generator=gen))
        x[i, :, :, t0 : t0 + t] = 0
        f = int(torch.randint(0, h // 8 + 1, (1,), generator=gen))
        f0 = int(torch.randint(0, h - f + 1, (1,), generator=gen))
        x[i, :, f0 : f0 + f, :] = 0
        s = int(torch.randint(-w // 10, w // 10 + 1, (1,), generator=gen))
        x[i] = torch.roll(x[i], shifts=s, dims=2)
    return x


def recording_scores(model, X, seg_rec, recs):
    model.eval()
    with torch.no_grad():
        p = torch.cat([F.softmax(model(torch.from_numpy(X[i : i + 256])), dim=1)[:, 1] for i in range(0, len(X), 256)]).numpy()
    per = defaultdict(list)
    for s, r in zip(p, seg_rec):
        per[r].append(float(s))
    return np.array([np.mean(per[r]) for r in recs])


def sample_weights(recs_of_segments, y_of, group_of):
    """Per-segment weights that give every (group, label) cell the same total weight.

    With group = source, positives and negatives weigh the same inside each source, so the
    source carries no information about the label in the weighted training distribution:
    recognising the channel cannot lower the loss.
    """
    cells = defaultdict(int)
    for r in recs_of_segments:
        cells[(group_of(r), y_of[r])] += 1
    w = np.array([1.0 / cells[(group_of(r), y_of[r])] for r in recs_of_segments])
    return torch.tensor(w * len(w) / w.sum(), dtype=torch.float32)


def train_model(X, seg_rec, parts, y_of, epochs, label_name, log, group_of=lambda r: 0, arch="lite"):
    """Train a CoughCNN on parts['train'] predicting y_of[rec]; pick the epoch by calibration AUC."""
    gen = torch.Generator().manual_seed(SEED)
    tr_mask = np.isin(seg_rec, parts["train"])
    Xtr = torch.from_numpy(X[tr_mask])
    ytr = torch.tensor([y_of[r] for r in seg_rec[tr_mask]], dtype=torch.long)
    wtr = sample_weights(seg_rec[tr_mask], y_of, group_of)
    model = CoughCNN(**CoughCNN.ARCHS[arch])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    cal_recs = parts["calib"]
    cal_mask = np.isin(seg_rec, cal_recs)
    best = (-1.0, None, -1)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(Xtr), generator=gen)
        total = 0.0
        for i in range(0, len(perm), 64):
            idx = perm[i : i + 64]
            xb = augment(Xtr[idx], gen)
            loss = (F.cross_entropy(model(xb), ytr[idx], reduction="none") * wtr[idx]).sum() / wtr[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        sched.step()
        cal_scores = recording_scores(model, X[cal_mask], seg_rec[cal_mask], cal_recs)
        cal_y = np.array([y_of[r] for r in cal_recs])
        groups = np.array([group_of(r) for r in cal_recs])
        # with groups (sources), the mean AUC within each group, so the source cannot score
        cal_auc = float(np.mean([auc(cal_scores[groups == g], cal_y[groups == g]) for g in sorted(set(groups))]))
        log(f"[{label_name}] epoch {epoch + 1:2d}/{epochs}  loss {total / len(perm):.4f}  calibration AUC {cal_auc:.3f}")
        if cal_auc > best[0]:
            best = (cal_auc, {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    log(f"[{label_name}] kept epoch {best[2]} (calibration AUC {best[0]:.3f})")
    return model, best[2]


def youden_threshold(scores, labels):
    best_t, best_j = 0.5, -1.0
    for t in np.unique(scores):
        s, p = sens_spec(scores, labels, t)
        if s + p - 1 > best_j:
            best_t, best_j = float(t), s + p - 1
    return best_t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extract", required=True, help="folder written by `tosia extract` (manifest.csv + tensors)")
    ap.add_argument("--metadata", required=True, help="covid19-cough metadata.json (for the source of each recording)")
    ap.add_argument("--raw", help="the recordings (default: raw/ beside --metadata), hashed to find byte-identical copies")
    ap.add_argument("--out", required=True, help="folder for tosia-cough-demo.onnx, .json, .metrics.txt and .split.json")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--no-source-balance", action="store_true", help="weight by label only (ablation), not by (source, label)")
    ap.add_argument("--arch", choices=sorted(CoughCNN.ARCHS), default="lite", help="network size (lite is shipped; full is the earlier, 14x costlier one)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (2 uses both cores of the reference machine)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(SEED)
    lines = []

    def log(s):
        print(s, flush=True)
        lines.append(s)

    extract_cfg = json.load(open(os.path.join(args.extract, "extract.json")))
    meta = json.load(open(args.metadata))
    names = [m["filename"] for m in meta if isinstance(m.get(POSITIVE), bool)]
    raw = args.raw or os.path.join(os.path.dirname(os.path.abspath(args.metadata)), "raw")
    hash_of = content_hashes(raw, names)
    label_of = {m["filename"]: m[POSITIVE] for m in meta if m["filename"] in hash_of}
    keep, conflicting, collapsed = deduplicate(names, label_of, hash_of)
    log(f"content hashes: {len(names)} recordings, {len(set(hash_of.values()))} distinct; "
        f"{len(conflicting)} groups of identical recordings with contradictory labels dropped ({sum(len(g['files']) for g in conflicting)} files); "
        f"{len(collapsed)} groups with agreeing labels kept once ({sum(len(g['files']) - 1 for g in collapsed)} copies left out)")
    X, seg_rec, recs, y_rec, src_rec, n_meta = load(args.extract, args.metadata, set(keep))
    parts = split_by_hash(recs, y_rec, src_rec, hash_of, SEED)
    clash = shared_hashes(parts, hash_of)
    if clash:
        raise SystemExit(f"split leaks: {len(clash)} content hashes in more than one part")
    log(f"recordings with segments: {len(recs)} of {len(keep)} kept ({n_meta} in metadata); segments: {len(X)}; input {list(X.shape[1:])}")
    for k, v in parts.items():
        log(f"  {k:5s}: {len(v)} recordings, {int(np.isin(seg_rec, v).sum())} segments, {sum(y_rec[r] for r in v)} positive")

    balance = not args.no_source_balance
    log(f"loss weights: equal total weight per {'(source, label)' if balance else 'label'}")
    log(f"architecture: {CoughCNN.describe(**CoughCNN.ARCHS[args.arch])}")
    model, epoch = train_model(X, seg_rec, parts, y_rec, args.epochs, "covid19", log, group_of=(lambda r: src_rec[r]) if balance else (lambda r: 0), arch=args.arch)

    cal, val = parts["calib"], parts["val"]
    cal_scores = recording_scores(model, X[np.isin(seg_rec, cal)], seg_rec[np.isin(seg_rec, cal)], cal)
    threshold = youden_threshold(cal_scores, [y_rec[r] for r in cal])
    val_mask = np.isin(seg_rec, val)
    val_scores = recording_scores(model, X[val_mask], seg_rec[val_mask], val)
    val_y = np.array([y_rec[r] for r in val])
    val_src = np.array([src_rec[r] for r in val])

    def report(mask, name):
        s, p = sens_spec(val_scores[mask], val_y[mask], threshold)
        return {"subset": name, "recordings": int(mask.sum()), "positives": int(val_y[mask].sum()), "roc_auc": round(auc(val_scores[mask], val_y[mask]), 3), "roc_auc_95ci": auc_interval(val_scores[mask], val_y[mask]), "sensitivity": round(s, 3), "specificity": round(p, 3)}

    metrics = {"threshold": round(threshold, 4), "epoch": epoch, "validation": [report(np.ones(len(val), bool), "overall")]}
    for src in ("call-center", "telegram"):
        metrics["validation"].append(report(val_src == src, src))

    # The confound: prevalence differs by source, so the source alone predicts the label.
    train_prev = {src: float(np.mean([y_rec[r] for r in parts["train"] if src_rec[r] == src])) for src in ("call-center", "telegram")}
    source_only = np.array([train_prev[s] for s in val_src])
    metrics["source_only_baseline_auc"] = round(auc(source_only, val_y), 3)
    metrics["source_only_baseline_auc_95ci"] = auc_interval(source_only, val_y)
    metrics["train_prevalence_by_source"] = {k: round(v, 3) for k, v in train_prev.items()}
    # Leakage: how well the model's own score tells the sources apart (0.5 = not at all).
    metrics["score_source_auc"] = round(auc(val_scores, val_src == "call-center"), 3)
    metrics["score_source_auc_95ci"] = auc_interval(val_scores, val_src == "call-center")
    metrics["source_balanced_loss"] = balance

    # How well can the model's input reveal the source? A same-architecture source classifier.
    y_src = {r: 1 if src_rec[r] == "telegram" else 0 for r in recs}
    src_model, _ = train_model(X, seg_rec, parts, y_src, max(5, args.epochs // 3), "source", log, arch=args.arch)
    src_scores = recording_scores(src_model, X[val_mask], seg_rec[val_mask], val)
    metrics["source_detectability_auc"] = round(auc(src_scores, [y_src[r] for r in val]), 3)

    log("")
    log(f"shipped threshold (Youden's J on the calibration split): {threshold:.4f}")
    log("validation (untouched by training), recording level, mean of segment probabilities:")
    log(f"  {'subset':12s} {'n':>4s} {'pos':>4s} {'ROC-AUC':>8s} {'95 % CI':>15s} {'sens':>6s} {'spec':>6s}")
    for m in metrics["validation"]:
        ci = m["roc_auc_95ci"]
        log(f"  {m['subset']:12s} {m['recordings']:4d} {m['positives']:4d} {m['roc_auc']:8.3f} {f'{ci[0]:.3f}-{ci[1]:.3f}':>15s} {m['sensitivity']:6.3f} {m['specificity']:6.3f}")
    ci = metrics["source_only_baseline_auc_95ci"]
    log(f"source-only baseline AUC (label prevalence of the recording's source): {metrics['source_only_baseline_auc']:.3f} (95 % CI {ci[0]:.3f}-{ci[1]:.3f})")
    ci = metrics["score_source_auc_95ci"]
    log(f"model score as a source detector (call-center vs telegram AUC, 0.5 = no leakage): {metrics['score_source_auc']:.3f} (95 % CI {ci[0]:.3f}-{ci[1]:.3f})")
    log(f"source detectability from the model input (telegram vs call-center AUC): {metrics['source_detectability_auc']:.3f}")

    cfg = extract_cfg["config"]
    h, w = X.shape[2], X.shape[3]
    manifest = {
        "format": "tosia-model/1",
        "name": NAME,
        "version": VERSION,
        "labels": LABELS,
        "positive_label": POSITIVE,
        "threshold": round(threshold, 4),
        "input": {"name": "image", "layout": extract_cfg["layout"], "shape": ["batch", 3, h, w], "dtype": "float32", "normalisation": extract_cfg["normalisation"]},
        "output": {"name": "logits", "activation": "softmax"},
        "preprocessing": {
            "audio": {"sample_rate": cfg["audio"]["sample_rate"]},
            "mel_spec": cfg["mel_spec"],
            "color_spec": {k: v for k, v in cfg["color_spec"].items()},
        },
        "training": {
            "data": "covid19-cough/dataset (CC0 1.0), 1077 recordings, label covid19",
            "seed": SEED,
            "split": "by content hash (sha256 of the recording's bytes), stratified by label and source: train 70 %, calibration 10 %, validation 20 %; the parts are listed in " + NAME + ".split.json",
            "deduplication": {
                "recordings": len(names),
                "distinct_contents": len(set(hash_of.values())),
                "dropped_conflicting_groups": len(conflicting),
                "dropped_conflicting_files": sum(len(g["files"]) for g in conflicting),
                "collapsed_agreeing_groups": len(collapsed),
                "kept": len(keep),
            },
            "loss": "cross-entropy weighted to equal total weight per (source, label)" if balance else "cross-entropy weighted per label",
            "architecture": model.description,
            "epochs": args.epochs,
            "kept_epoch": epoch,
            "aggregate": "mean",
            "metrics": metrics,
        },
    }
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, NAME + ".onnx")
    model.eval()
    dummy = torch.zeros(1, 3, h, w)
    torch.onnx.export(model, dummy, onnx_path, input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    import onnx

    proto = onnx.load(onnx_path)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "tosia_manifest", json.dumps(manifest, sort_keys=True)
    proto.producer_name = "tosia models/train/train.py"
    onnx.save(proto, onnx_path)
    with open(os.path.join(args.out, NAME + ".json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, NAME + ".split.json"), "w") as f:
        json.dump({
            "parts": {k: [{"file": r, "sha256": hash_of[r]} for r in v] for k, v in parts.items()},
            "dropped_conflicting": conflicting,
            "collapsed_agreeing": collapsed,
        }, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, NAME + ".metrics.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    log(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
