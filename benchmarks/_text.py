"""A text-classification workload that ships with the repository: a generated corpus, the tutorial's pipeline and
its grid.

The corpus is *generated*, not downloaded: dask-ml's "scale scikit-learn" tutorial searches over the 20
newsgroups data, which `sklearn.datasets.fetch_20newsgroups` downloads, and these benchmarks must run on
machines without network access (and give the same documents everywhere). `corpus` therefore writes documents
deterministically from a fixed made-up vocabulary: four topics, each with its own words and two-word phrases,
drawn alongside words every topic shares (Zipf-like frequencies, so that ``max_df`` and ``max_features``
matter), with some words of the other topics mixed in, so that the classes overlap and the grid's choices
change the scores.

Imports only NumPy and scikit-learn, and gives the same corpus under NumPy 1.x and 2.x and scikit-learn 1.3 to
1.9 (it also runs in the dask-ml peer environment of ``_peers.py``).

>>> docs, labels = corpus(8, seed=0)
>>> len(docs), sorted(set(labels.tolist())) == [0, 1, 2, 3], docs == corpus(8, seed=0)[0]
(8, True, True)
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline

__all__ = ["N_CLASSES", "corpus", "grid", "pipeline"]

N_CLASSES = 4
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fi", "gu", "he", "ja", "bo"]
_VOCAB_SEED = 20240601  # the vocabulary is the same for every corpus: only the documents depend on `seed`
_SHARED_WORDS = 3000
_TOPIC_WORDS = 1200
_PHRASES = 150


def _words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        length = int(rng.integers(2, 5))
        word = "".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES), size=length))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def _vocabulary() -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Shared words, each topic's words, each topic's two-word phrases (always the same)."""
    rng = np.random.default_rng(_VOCAB_SEED)
    taken: set[str] = set()
    shared = _words(rng, _SHARED_WORDS, taken)
    topics = [_words(rng, _TOPIC_WORDS, taken) for _ in range(N_CLASSES)]
    phrases = []
    for words in topics:
        firsts = rng.integers(0, len(shared), size=_PHRASES)
        seconds = rng.integers(0, len(words), size=_PHRASES)
        phrases.append([f"{shared[int(a)]} {words[int(b)]}" for a, b in zip(firsts, seconds, strict=True)])
    return shared, topics, phrases


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def corpus(n_docs: int = 3000, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n_docs`` generated documents and their labels (0 to 3, balanced), the same for the same ``seed``.

    >>> docs, labels = corpus(4, seed=1)
    >>> labels.tolist(), len(docs[0].split()) > 20
    ([0, 1, 2, 3], True)
    """
    shared, topics, phrases = _vocabulary()
    rng = np.random.default_rng(seed)
    p_shared, p_topic, p_phrase = _zipf(len(shared), 1.1), _zipf(_TOPIC_WORDS, 0.9), _zipf(_PHRASES, 0.8)
    labels = np.arange(n_docs) % N_CLASSES
    docs = []
    for label in labels.tolist():
        length = int(rng.integers(40, 160))
        kinds = rng.choice(4, size=length, p=[0.84, 0.06, 0.02, 0.08])  # shared, own topic, phrase, other topic
        others = [t for t in range(N_CLASSES) if t != label]
        shared_i = iter(rng.choice(len(shared), size=length, p=p_shared).tolist())
        topic_i = iter(rng.choice(_TOPIC_WORDS, size=length, p=p_topic).tolist())
        phrase_i = iter(rng.choice(_PHRASES, size=length, p=p_phrase).tolist())
        other_t = iter(rng.choice(others, size=length).tolist())
        words = []
        for kind in kinds.tolist():
            if kind == 0:
                words.append(shared[next(shared_i)])
            elif kind == 1:
                words.append(topics[label][next(topic_i)])
            elif kind == 2:
                words.append(phrases[label][next(phrase_i)])
            else:
                words.append(topics[next(other_t)][next(topic_i)])
        docs.append(" ".join(words))
    return docs, labels


def pipeline() -> Pipeline:
    """The tutorial's pipeline: counts, tf-idf, a linear SVM trained by SGD (seeded, so runs agree)."""
    return Pipeline([
        ("vect", CountVectorizer()),
        ("tfidf", TfidfTransformer()),
        ("clf", SGDClassifier(max_iter=1000, tol=1e-3, random_state=0)),
    ])


def grid() -> dict[str, tuple]:
    """The tutorial's grid with its commented-out parameters switched on: 3 x 4 x 2 x 2 x 2 x 2 x 2 = 384
    candidates (24 distinct vectorizers, 96 distinct vectorizer + tf-idf prefixes).

    >>> len(list(__import__("sklearn.model_selection").model_selection.ParameterGrid(grid())))
    384
    """
    return {
        "vect__max_df": (0.5, 0.75, 1.0),
        "vect__max_features": (None, 5000, 10000, 50000),
        "vect__ngram_range": ((1, 1), (1, 2)),  # unigrams or bigrams
        "tfidf__use_idf": (True, False),
        "tfidf__norm": ("l1", "l2"),
        "clf__alpha": (0.00001, 0.000001),
        "clf__penalty": ("l2", "elasticnet"),
    }
