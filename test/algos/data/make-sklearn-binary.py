"""Reference values for algos/metrics/binary.ts, computed once with scikit-learn and stored in
sklearn-binary.json beside this script (the suite never needs Python):

    apt-get install python3-sklearn && /usr/bin/python3 test/algos/data/make-sklearn-binary.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

rng = np.random.default_rng(24)
cases = []


def add(name, y, s):
    y = [int(v) for v in y]
    s = [float(v) for v in s]
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    cases.append({
        "name": name, "truth": y, "scores": s,
        "roc_auc": roc_auc_score(y, s),
        "average_precision": average_precision_score(y, s),
        "roc_fpr": fpr.tolist(), "roc_tpr": tpr.tolist(),
    })


n = 300
y = rng.integers(0, 2, n)
add("random, no signal", y, rng.random(n))
add("informative", y, np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.2, n), 0, 1))
add("ties: scores rounded to one decimal", y, np.round(np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, n), 0, 1), 1))
add("every score equal", y, np.full(n, 0.5))
add("perfect", [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9])
add("reversed", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
add("small with ties", [0, 1, 0, 1, 1, 0, 1], [0.2, 0.2, 0.5, 0.5, 0.9, 0.9, 0.1])
imbalanced = (rng.random(500) < 0.08).astype(int)
add("imbalanced, 8 % positive", imbalanced, np.clip(0.3 + 0.3 * imbalanced + rng.normal(0, 0.2, 500), 0, 1))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn-binary.json")
with open(out, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)
print(f"wrote {out}: {len(cases)} cases, scikit-learn {sklearn.__version__}")
