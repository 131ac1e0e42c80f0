"""Which recordings the demo model may learn from, and how they are split (standard library only,
so `make test` can check it without PyTorch).

The covid19-cough raw folder holds byte-identical recordings under different names, some with
contradictory labels. Every recording is hashed (sha256 of its bytes); a group of identical
recordings whose labels agree is kept once (its first name in sorted order), a group whose labels
disagree is dropped whole, since its label is a coin flip. The split then assigns whole content
hashes, so the same audio can never sit on both sides of it.
"""
import hashlib
import os
import random
from collections import defaultdict


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_hashes(raw_dir, names):
    return {n: sha256_of(os.path.join(raw_dir, n)) for n in names}


def deduplicate(names, label_of, hash_of):
    """(kept names, dropped conflicting groups, collapsed duplicate groups).

    A group is {"sha256", "files", "labels"}; `kept` has one name per content hash."""
    groups = defaultdict(list)
    for n in sorted(names):
        groups[hash_of[n]].append(n)
    kept, conflicting, collapsed = [], [], []
    for sha in sorted(groups):
        files = groups[sha]
        labels = sorted({label_of[n] for n in files})
        if len(labels) > 1:
            conflicting.append({"sha256": sha, "files": files, "labels": labels})
            continue
        if len(files) > 1:
            collapsed.append({"sha256": sha, "files": files, "kept": files[0], "labels": labels})
        kept.append(files[0])
    return kept, conflicting, collapsed


def split_by_hash(recs, y_of, src_of, hash_of, seed, fractions=(("val", 0.2), ("calib", 0.1))):
    """train / calib / val by content hash, stratified by (label, source)."""
    by_hash = defaultdict(list)
    for r in recs:
        by_hash[hash_of[r]].append(r)
    strata = defaultdict(list)
    for sha, members in by_hash.items():
        strata[(y_of[members[0]], src_of[members[0]])].append(sha)
    rng = random.Random(seed)
    parts = {"train": [], "calib": [], "val": []}
    for key in sorted(strata):
        hashes = sorted(strata[key])
        rng.shuffle(hashes)
        n, at = len(hashes), 0
        for name, frac in fractions:
            k = round(frac * n)
            for sha in hashes[at : at + k]:
                parts[name] += by_hash[sha]
            at += k
        for sha in hashes[at:]:
            parts["train"] += by_hash[sha]
    return {k: sorted(v) for k, v in parts.items()}


def shared_hashes(parts, hash_of):
    """Content hashes found in more than one part (must be empty)."""
    seen = {}
    clash = set()
    for name, recs in parts.items():
        for r in recs:
            h = hash_of[r]
            if h in seen and seen[h] != name:
                clash.add(h)
            seen.setdefault(h, name)
    return sorted(clash)
