"""The predictive score: a calibrated logistic regression over every lead field.

Training fits a scikit-learn Pipeline: a ColumnTransformer (one-hot for categories with rare
and unseen values folded together, median imputation with a missing indicator and scaling
for numbers), then a logistic regression calibrated with Platt's sigmoid on cross-validated
predictions (`ensemble=False`: one model, one calibration). The encoding is fitted once,
outside the calibration folds: it learns no outcome, and fitting it once per fold was half
of the training time.

Because both the model and the calibration are linear in the encoded features, the result is
one linear formula on the log-odds scale. `CompiledModel` reads that formula out of the
fitted pipeline once per process: scoring is then dictionary look-ups and a dot product
(microseconds per lead), and each field's share of the log-odds is exact — that is what the
lead page shows as factors, relative to an average lead of the training data.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lejek.scoring.features import Column, category, combined, matrices, number, shown

MIN_SAMPLES = 200
MIN_PER_CLASS = 30
# A category seen fewer times than this is pooled with the other rare ones.
MIN_FREQUENCY = 5
UNSEEN = "\x00unseen"


class TooFewOutcomes(Exception):
    """Not enough converted and lost leads to learn from; the rule-based score stands alone."""


def build_estimator(spec: dict) -> Pipeline:
    n_cat = len(spec["categorical"])
    n_num = len(spec["numeric"])
    # keep_empty_features: a column nobody filled in (yet) keeps its place, filled with 0.
    impute = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    prepare = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=MIN_FREQUENCY,
                    sparse_output=False,
                ),
                list(range(n_cat)),
            ),
            (
                "num",
                Pipeline(
                    [
                        ("impute", impute),
                        ("scale", StandardScaler()),
                    ]
                ),
                list(range(n_cat, n_cat + n_num)),
            ),
        ]
    )
    model = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=2000), method="sigmoid", cv=3, ensemble=False
    )
    return Pipeline([("prepare", prepare), ("model", model)])


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10):
    """Mean |predicted - observed| over ten equal-width probability bins, weighted by size."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(probabilities[mask].mean() - labels[mask].mean())
    return float(error)


def check_enough(labels: np.ndarray) -> None:
    positives = int(labels.sum())
    negatives = int(len(labels) - positives)
    if len(labels) < MIN_SAMPLES or min(positives, negatives) < MIN_PER_CLASS:
        raise TooFewOutcomes(
            f"{len(labels)} outcomes ({positives} won, {negatives} lost); "
            f"needs {MIN_SAMPLES} with {MIN_PER_CLASS} of each"
        )


@dataclass
class Trained:
    estimator: Pipeline
    spec: dict
    n_samples: int
    n_positive: int
    auc: float
    brier: float
    ece: float
    seconds: float

    def payload(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self.estimator, buffer)
        return buffer.getvalue()

    def stored_fields(self) -> dict[str, Any]:
        """What a ScoringModel row keeps of this training (its version and author aside)."""
        return {
            "n_samples": self.n_samples,
            "n_positive": self.n_positive,
            "auc": self.auc,
            "brier": self.brier,
            "ece": self.ece,
            "training_seconds": self.seconds,
            "spec": self.spec,
            "payload": self.payload(),
        }


def train(records: list[dict[str, Any]], labels: np.ndarray, spec: dict, seed: int = 0):
    """Fit on 80 % of the outcomes, measure AUC and calibration on the other 20 %."""
    labels = np.asarray(labels, dtype=int)
    check_enough(labels)
    started = time.perf_counter()
    cat, num = matrices(records, spec)
    X = combined(cat, num)
    X_train, X_test, y_train, y_test = train_test_split(
        X, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    estimator = build_estimator(spec)
    estimator.fit(X_train, y_train)
    compiled = CompiledModel.from_estimator(estimator, spec)
    spec = {**spec, "baseline": compiled.baseline_from(X_train)}
    held_out = estimator.predict_proba(X_test)[:, 1]
    return Trained(
        estimator=estimator,
        spec=spec,
        n_samples=len(labels),
        n_positive=int(labels.sum()),
        auc=float(roc_auc_score(y_test, held_out)),
        brier=float(brier_score_loss(y_test, held_out)),
        ece=expected_calibration_error(held_out, y_test),
        seconds=time.perf_counter() - started,
    )


def load_estimator(payload: bytes) -> Pipeline:
    """Unpickle a model Lejek trained itself (see ScoringModel: never load outside bytes)."""
    return joblib.load(io.BytesIO(bytes(payload)))


# The linear formula ---------------------------------------------------------------------------


def _ohe_blocks(encoder: OneHotEncoder, n_cat: int) -> list[slice]:
    """Which output columns belong to each categorical input, from the encoder's names."""
    names = encoder.get_feature_names_out([f"c{i}" for i in range(n_cat)])
    owners = [int(name.split("_", 1)[0][1:]) for name in names]
    blocks = []
    for i in range(n_cat):
        positions = [p for p, owner in enumerate(owners) if owner == i]
        blocks.append(slice(positions[0], positions[-1] + 1) if positions else slice(0, 0))
    return blocks


class CompiledModel:
    """The calibrated model as log-odds = intercept + Σ per-field contributions."""

    def __init__(self, intercept: float, tables, unseen, num_params, spec: dict) -> None:
        self.intercept = intercept
        self.tables: list[dict[str, float]] = tables
        self.unseen: list[float] = unseen
        self.num = num_params
        self.spec = spec

    @classmethod
    def from_estimator(cls, estimator: Pipeline, spec: dict) -> CompiledModel:
        calibrated = estimator.named_steps["model"].calibrated_classifiers_[0]
        model = calibrated.estimator
        a, b = float(calibrated.calibrators[0].a_), float(calibrated.calibrators[0].b_)
        prepare = estimator.named_steps["prepare"]
        # p = expit(-(a·(w·z + c) + b)): one linear formula on the log-odds scale.
        weights = -a * model.coef_[0]
        intercept = -a * float(model.intercept_[0]) - b
        n_cat = len(spec["categorical"])
        encoder = prepare.named_transformers_["cat"]
        n_ohe = len(encoder.get_feature_names_out())
        tables, unseen = cls._category_tables(encoder, weights[:n_ohe], n_cat)
        numeric = prepare.named_transformers_["num"]
        imputer, scaler = numeric.named_steps["impute"], numeric.named_steps["scale"]
        n_num = len(spec["numeric"])
        num_weights = weights[n_ohe:]
        indicator_of = np.full(n_num, -1)
        if imputer.indicator_ is not None:
            for position, column in enumerate(imputer.indicator_.features_):
                indicator_of[column] = n_num + position
        num_params = {
            "fill": np.asarray(imputer.statistics_, dtype=float),
            "mean": np.asarray(scaler.mean_, dtype=float),
            "scale": np.asarray(scaler.scale_, dtype=float),
            "weights": np.asarray(num_weights, dtype=float),
            "indicator_of": indicator_of,
        }
        return cls(intercept, tables, unseen, num_params, spec)

    @staticmethod
    def _category_tables(encoder: OneHotEncoder, weights: np.ndarray, n_cat: int):
        blocks = _ohe_blocks(encoder, n_cat)
        tables, unseen = [], []
        for i in range(n_cat):
            values = [*encoder.categories_[i], UNSEEN]
            probe = np.empty((len(values), n_cat), dtype=object)
            for j in range(n_cat):
                probe[:, j] = encoder.categories_[j][0]
            probe[:, i] = values
            encoded = encoder.transform(probe)[:, blocks[i]]
            contributions = encoded @ weights[blocks[i]]
            tables.append(dict(zip(values[:-1], contributions[:-1].tolist(), strict=True)))
            unseen.append(float(contributions[-1]))
        return tables, unseen

    def contributions(self, cat: np.ndarray, num: np.ndarray) -> np.ndarray:
        """n x (c + k) log-odds contributions, one column per input field."""
        n = cat.shape[0]
        out = np.empty((n, len(self.tables) + num.shape[1]))
        for i, table in enumerate(self.tables):
            default = self.unseen[i]
            out[:, i] = [table.get(value, default) for value in cat[:, i]]
        out[:, len(self.tables) :] = self._numeric(num)
        return out

    def coded_contributions(self, columns: list[Column]) -> np.ndarray:
        """The same contributions from a batch's coded columns (features.batch_inputs): each
        distinct value is looked up once and spread over the batch."""
        n_cat = len(self.tables)
        n = len(columns[0].codes)
        out = np.empty((n, len(columns)))
        for i, table in enumerate(self.tables):
            column, default = columns[i], self.unseen[i]
            per_value = np.array([table.get(category(v), default) for v in column.values])
            out[:, i] = per_value[column.codes]
        num = np.empty((n, len(columns) - n_cat))
        for j, column in enumerate(columns[n_cat:]):
            num[:, j] = np.array([number(v) for v in column.values], dtype=float)[column.codes]
        out[:, n_cat:] = self._numeric(num)
        return out

    def _numeric(self, num: np.ndarray) -> np.ndarray:
        p = self.num
        missing = np.isnan(num)
        filled = np.where(missing, p["fill"], num)
        k = num.shape[1]
        scaled = (filled - p["mean"][:k]) / p["scale"][:k]
        numeric = scaled * p["weights"][:k]
        for column in range(k):
            extra = p["indicator_of"][column]
            if extra >= 0:
                z = (missing[:, column] - p["mean"][extra]) / p["scale"][extra]
                numeric[:, column] += z * p["weights"][extra]
        return numeric

    def probabilities(self, cat: np.ndarray, num: np.ndarray) -> np.ndarray:
        logits = self.intercept + self.contributions(cat, num).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-logits))

    def baseline_from(self, X: np.ndarray) -> list[float]:
        """Each field's average contribution over the training leads: "an average lead"."""
        n_cat = len(self.tables)
        cat = X[:, :n_cat]
        num = X[:, n_cat:].astype(float)
        return self.contributions(cat, num).mean(axis=0).tolist()

    def _top(self, contributions: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Per lead, the columns that moved its log-odds most against an average lead, and
        their effects; columns of no real effect are marked -1."""
        names = [*self.spec["categorical"], *self.spec["numeric"]]
        baseline = np.asarray(self.spec.get("baseline") or [0.0] * len(names))
        effects = contributions - baseline
        top = np.argsort(-np.abs(effects), axis=1)[:, :limit]
        chosen = np.take_along_axis(effects, top, axis=1)
        top[~(np.isfinite(chosen) & (np.abs(chosen) >= 0.01))] = -1
        return top, chosen

    def factors(self, records: list[dict], contributions: np.ndarray, limit: int = 6):
        """Per lead, the fields that moved its log-odds most against an average lead.

        Labels of standard fields are looked up when shown (in the reader's language); custom
        fields keep the label they had when the model was trained.
        """
        from lejek.scoring.features import shown_value

        names = [*self.spec["categorical"], *self.spec["numeric"]]
        custom_labels = self.spec.get("custom_labels", {})
        top, chosen = self._top(contributions, limit)
        out = []
        for i, record in enumerate(records):
            factors = []
            for j, effect in zip(top[i].tolist(), chosen[i].tolist(), strict=True):
                if j < 0:
                    continue
                factor = {
                    "feature": names[j],
                    "value": shown_value(record, names[j]),
                    "effect": round(effect, 3),
                }
                if names[j] in custom_labels:
                    factor["label"] = custom_labels[names[j]]
                factors.append(factor)
            out.append(factors)
        return out

    def factor_texts(
        self, columns: list[Column], contributions: np.ndarray, limit: int = 6
    ) -> list[str]:
        """`factors` of a batch's coded columns, as the JSON text LeadScore stores.

        A factor's text depends only on its column and the lead's value there (its effect is
        that value's contribution), so each is written once per distinct value.
        """
        names = [*self.spec["categorical"], *self.spec["numeric"]]
        custom_labels = self.spec.get("custom_labels", {})
        top, chosen = self._top(contributions, limit)
        offsets = np.cumsum([0] + [len(column.values) for column in columns])
        codes = np.stack([column.codes for column in columns], axis=1)
        ids = offsets[:-1] + codes
        picked = np.where(top >= 0, np.take_along_axis(ids, np.maximum(top, 0), axis=1), -1)
        texts = np.empty(int(offsets[-1]) + 1, dtype=object)
        texts[-1] = ""
        # One occurrence of each fragment (any will do: all have the same effect).
        flat = picked.ravel()
        first = np.full(len(texts), -1)
        first[flat[::-1]] = np.arange(len(flat) - 1, -1, -1)
        for fragment in np.flatnonzero(first[:-1] >= 0).tolist():
            row, rank = divmod(int(first[fragment]), picked.shape[1])
            j = int(top[row, rank])
            value = columns[j].values[fragment - int(offsets[j])]
            label = custom_labels.get(names[j])
            # Keys in the order PostgreSQL's jsonb writes them back (shorter first), so a
            # rescore can tell an unchanged text from a changed one by comparing texts.
            texts[fragment] = (
                "{"
                + ("" if label is None else f'"label": {encode_basestring(label)}, ')
                + f'"value": {encode_basestring(shown(value))}, '
                f'"effect": {round(float(chosen[row, rank]), 3)!r}, '
                f'"feature": {encode_basestring(names[j])}}}'
            )
        # The kept fragments in rank order, a comma before all but the first: object-array
        # additions over the batch instead of a join per lead.
        out = np.full(len(picked), "[", dtype=object)
        started = np.zeros(len(picked), dtype=bool)
        for rank in range(picked.shape[1]):
            kept = picked[:, rank] >= 0
            fragments = texts[picked[:, rank]]
            out = out + np.where(started & kept, ", " + fragments, fragments)
            started |= kept
        return (out + "]").tolist()
