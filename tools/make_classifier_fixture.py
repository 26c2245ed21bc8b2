#!/usr/bin/env python3
"""Reference for Zoo's linear classifier (`zoo fit`): scikit-learn's multinomial LogisticRegression
on standardised scikit-learn 8×8 digits.

Zoo minimises  (1/N) Σ CE + (λ/2)‖W‖²  (bias not penalised) on features standardised with the
population standard deviation. scikit-learn minimises  C Σ CE + ½‖W‖², the same optimum when
C = 1/(λN). This script fits it tightly and writes the data, λ, the optimum and the accuracies to
Tests/Fixtures/classifier/digits_logreg.json (committed; CI needs no Python).

Rerun:  python3 -m venv /tmp/venv-skl && /tmp/venv-skl/bin/pip install scikit-learn==1.7.2 numpy
        /tmp/venv-skl/bin/python tools/make_classifier_fixture.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

N, LAMBDA = 300, 1e-2
digits = load_digits()
x = digits.data[:N].astype(np.float64)
y = digits.target[:N].astype(np.int64)
mean = x.mean(axis=0)
std = x.std(axis=0)
std[std < 1e-12] = 1.0
z = (x - mean) / std

model = LogisticRegression(C=1.0 / (LAMBDA * N), tol=1e-12, max_iter=100000)
model.fit(z, y)
p = model.predict_proba(z)
ce = -np.log(p[np.arange(N), y]).mean()
objective = ce + 0.5 * LAMBDA * (model.coef_ ** 2).sum()

out = {
    "source": f"scikit-learn {sklearn.__version__} LogisticRegression(C=1/(λN), lbfgs, tol=1e-12) on load_digits()[:{N}]",
    "lambda": LAMBDA,
    "features": x.astype(int).flatten().tolist(),
    "labels": y.tolist(),
    "objective": float(objective),
    "cross_entropy": float(ce),
    "train_accuracy": float((model.predict(z) == y).mean()),
    "coef": model.coef_.flatten().tolist(),
    "intercept": model.intercept_.tolist(),
    "probabilities_first5": p[:5].flatten().tolist(),
}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "classifier", "digits_logreg.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"objective {objective:.10f}, train accuracy {out['train_accuracy']:.4f}, wrote {os.path.normpath(path)}")
