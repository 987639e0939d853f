"""Docstring parts the pairwise methods share: ``{name}`` in their docstrings.

Each method passes :data:`PARTS` to
:func:`~pandas_toloka.aggregation._to_frame.frame_function` (``parts=``), which
puts each text where its placeholder stands.
"""

from __future__ import annotations

__all__ = ["PARTS"]

#: Each text starts at its placeholder and indents its further lines as a docstring
#: written in source does (four spaces, eight for a description).
PARTS = {
    "comparisons": """\
responses : pandas.DataFrame
        One row per comparison, columns of any dtype backend. Rows with a
        missing value in a column the method reads, and self-comparisons
        (the same item on both sides), are dropped with a
        :class:`~pandas_toloka.errors.DroppedResponsesWarning`.
    left, right : hashable, default "left", "right"
        The columns of the two items compared (one item space).
    winner : hashable, default "winner"
        The outcome: ``"left"``, ``"right"`` or ``"tie"``, or the winning
        item's id (``"tie"`` for a tie); see ``winner_kind``.""",
    "worker_unused": """\
worker : hashable, default "worker_id"
        Not read by this method (which ignores who compared); it is here so
        that every pairwise method takes the same arguments, and the column
        need not exist.""",
    "winner_kind": """\
winner_kind : {"auto", "sides", "items"}, default "auto"
        ``"sides"``: the winner column holds ``"left"``/``"right"``/``"tie"``;
        ``"items"``: it holds the winning item's id (or ``"tie"``);
        ``"auto"``: sides when every value is one of those three words, items
        otherwise, and an error when some item is itself called ``"left"``,
        ``"right"`` or ``"tie"`` (pass the kind then).""",
    "counts": """\
counts : hashable, optional
        A column of how many times each row happened, for comparisons counted
        beforehand (a table of pairs and outcomes, or the sum of partitions'
        counts, as on Dask): whole numbers >= 0. The result equals that of the
        rows repeated that many times, bootstrap included.""",
    "bootstrap": """\
n_bootstrap : int, default 100
        Bootstrap replicates for the confidence intervals: each resamples as
        many comparisons as there are, with replacement, and refits. With 0,
        ``ci_low`` and ``ci_high`` both equal ``score``.
    confidence : float, default 0.95
        Level of the percentile intervals.
    seed : int, default 0
        Seed of the resampling (the intervals depend on it alone, not on the
        number of threads).""",
    "returns": """\
pandas.DataFrame
        One row per item, best first: ``item`` (the left/right columns'
        dtype), ``score`` (float64), ``rank`` (int64; 1 is best, equal scores
        share the best rank), ``n_comparisons`` (int64), ``ci_low`` and
        ``ci_high`` (float64; the bootstrap percentile interval of ``score``).
        Empty (those columns) when no comparison is left.""",
}
