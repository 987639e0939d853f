"""Sentence GLEU between two texts (Wu et al., 2016), HRRASA's default output similarity.

The 1- to 4-grams of the words of each text are counted; GLEU is the number
of n-grams the two share (with multiplicity) over the larger of their two
n-gram totals, 0.0 when both are empty. It is symmetric. This is nltk's
``sentence_gleu([a.split()], b.split())``.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["gleu", "ngram_counts"]

MAX_N = 4


def ngram_counts(text: str) -> tuple[Counter[tuple[str, ...]], int]:
    """The 1..4-grams of the words of ``text`` and their total count."""
    words = tuple(text.split())
    grams: Counter[tuple[str, ...]] = Counter()
    for n in range(1, MAX_N + 1):
        for start in range(len(words) - n + 1):
            grams[words[start : start + n]] += 1
    return grams, sum(grams.values())


def gleu(
    first: tuple[Counter[tuple[str, ...]], int], second: tuple[Counter[tuple[str, ...]], int]
) -> float:
    """GLEU of two texts given as :func:`ngram_counts`."""
    (a, total_a), (b, total_b) = first, second
    largest = max(total_a, total_b)
    if largest == 0:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    shared = sum(min(count, b[gram]) for gram, count in a.items() if gram in b)
    return shared / largest
