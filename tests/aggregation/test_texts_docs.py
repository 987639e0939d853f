"""The example of docs/texts.md runs as written and gives what the page says."""

from __future__ import annotations

from docs_snippets import code_blocks, run_block


def test_texts_page_example() -> None:
    block, accessor = code_blocks("docs/texts.md")
    namespace = run_block(block, source="docs/texts.md")
    texts = namespace["texts"]
    assert texts["text"].tolist() == ["the cat sat on the mat", "hello world"]
    assert namespace["scores"]["n_tasks"].tolist() == [2, 2, 2]
    assert namespace["golden"]["n_tasks"].tolist() == [1, 1, 1]
    assert namespace["agreement"]["mean_pairwise_wer"].gt(0).all()
    assert namespace["chosen"]["text"].tolist() == ["the cat sat on the mat", "hello world"]
    import pandas_toloka  # noqa: F401  (registers df.toloka)

    run_block(accessor, source="docs/texts.md", namespace=namespace)
    assert namespace["texts"]["text"].tolist() == ["the cat sat on the mat", "hello world"]
    assert list(namespace["chosen"].columns) == ["pool_id", "task_id", "confidence", "text"]
