"""The yardstick: categorical naive Bayes over field values, numbers cut into quantile bins.

This is how the best-known open-source CRM scores leads predictively; Lejek's model has to
beat it on the same leads (bench/scoring.py, tests/test_scoring_model.py).
"""

from __future__ import annotations

import numpy as np
from sklearn.naive_bayes import CategoricalNB
from sklearn.preprocessing import OrdinalEncoder

BINS = 5


class NaiveBayesBaseline:
    def fit(self, cat: np.ndarray, num: np.ndarray, labels: np.ndarray) -> NaiveBayesBaseline:
        self.encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        self.encoder.fit(cat)
        self.edges = [self._edges(num[:, j]) for j in range(num.shape[1])]
        codes = self._codes(cat, num)
        sizes = [len(c) + 1 for c in self.encoder.categories_] + [BINS + 2] * num.shape[1]
        self.model = CategoricalNB(alpha=1.0, min_categories=np.array(sizes))
        self.model.fit(codes, labels)
        return self

    @staticmethod
    def _edges(column: np.ndarray) -> np.ndarray:
        present = column[~np.isnan(column)]
        if present.size == 0:
            return np.array([])
        return np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]))

    def _codes(self, cat: np.ndarray, num: np.ndarray) -> np.ndarray:
        # Code 0 is "unseen value" / "missing number"; known values and bins count from 1.
        cat_codes = self.encoder.transform(cat).astype(int) + 1
        num_codes = np.zeros(num.shape, dtype=int)
        for j, edges in enumerate(self.edges):
            column = num[:, j]
            present = ~np.isnan(column)
            num_codes[present, j] = np.searchsorted(edges, column[present], side="right") + 1
        return np.hstack([cat_codes, num_codes])

    def predict_proba(self, cat: np.ndarray, num: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self._codes(cat, num))[:, 1]
