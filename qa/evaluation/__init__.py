"""Measure answer quality on labelled questions: ``qa eval gold.jsonl --articles some/folder``.

    from qa import QA
    from qa.evaluation.gold import load_gold
    from qa.evaluation.report import write_report
    from qa.evaluation.score import evaluate
    gold = load_gold("gold.jsonl").questions
    report = evaluate(QA("my_articles", "my_index"), gold)
    write_report(report, "gold-report")            # gold-report.json and gold-report.md

One module a step: :mod:`~qa.evaluation.gold` reads gold files (JSONL or the official SQuAD JSON),
:mod:`~qa.evaluation.score` answers and scores them (SQuAD exact match and F1 from :mod:`qa.metrics`,
no-answer precision and recall, retrieval recall@k and MRR, latency), :mod:`~qa.evaluation.report` writes
the JSON and Markdown reports. ``qa feedback-to-gold`` (:mod:`qa.feedback`) turns the chat's thumbs
up/down into a gold file.
"""
