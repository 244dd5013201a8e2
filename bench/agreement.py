"""Agreement and conflict across articles, measured on planted articles and checked on held-out SQuAD.

    python bench/agreement.py [--squad] [--windows 2,3,5,8] [--write]

**Planted set.** A dozen short dated articles, written here, where facts repeat in several articles in
different forms ("14" / "fourteen", "$1.2bn" / "1.2 billion dollars", "320 metres" / "320m") and change
over time (a count, a cost, who heads an agency), plus articles about other things. Each question says
which articles should be cited as agreeing, which different answers (and from which articles) should be
shown beside the answer, and, for a "latest" question, which article's answer should lead. Indexed and
asked through :class:`qa.QA` as it ships (index, embedder, reader, gate). This set was used to choose
:data:`qa.reader.reader.CONFLICT_WINDOW`; the tests (``tests/test_agreement.py``) plant other articles.

**SQuAD check** (``--squad``, needs the cached reads and index of ``bench/end_to_end.py``). On the held-out
questions of ``bench/end_to_end.py`` each answer is in one Wikipedia article, so a different answer shown
from another article is an unrelated span: the share of answers shown with an alternative is the false
conflict rate, per conflict window.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import machine, today, write_section  # noqa: E402
from qa import QA  # noqa: E402
from qa.answerers.agreement import long_date  # noqa: E402
from qa.answerers.equivalence import Relation, relation  # noqa: E402
from qa.answerers.gate import GatedAnswerer, NoAnswerGate  # noqa: E402
from qa.answerers.protocol import passages_to_read  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.types import Answer  # noqa: E402
from training.calibrate_gate import READS_CACHE, ReadCache, corpus_qa, questions, read_all  # noqa: E402

ARTICLES = {
    "tarsk-jan.json": ("Tarsk port expands container trade", "2023-01-15",
                       "The Port of Tarsk operates 14 container cranes, its harbour master said on Monday. Ships from "
                       "the Baltic now call twice a week, and the port hopes to double its trade by the end of the "
                       "decade."),
    "tarsk-jan-2.json": ("Tarsk dockers vote on new shifts", "2023-01-20",
                         "Dockers at Tarsk voted on Friday to accept longer night shifts. The Port of Tarsk operates "
                         "fourteen container cranes, and each needs a crew of three."),
    "tarsk-sep.json": ("New cranes arrive at Tarsk", "2023-09-05",
                       "Four new cranes were lifted onto the quay at Tarsk this week. The Port of Tarsk now operates "
                       "18 container cranes, the harbour master said."),
    "belmor-apr.json": ("Belmor tunnel approved", "2022-04-01",
                        "The transport ministry approved the Belmor tunnel on Friday. The Belmor tunnel will cost "
                        "$1.2bn, the ministry said, and should open in 2027."),
    "belmor-apr-2.json": ("Critics question Belmor tunnel", "2022-04-03",
                          "Local groups questioned the plan on Sunday. The ministry put the cost of the Belmor tunnel "
                          "at 1.2 billion dollars, a figure the groups called too low."),
    "belmor-jun.json": ("Belmor tunnel costs rise", "2023-06-10",
                        "Steel prices have pushed up the bill for the Belmor tunnel. The Belmor tunnel will now cost "
                        "$1.6bn, the transport ministry said on Saturday."),
    "vantor-2021.json": ("New head for fisheries agency", "2021-02-01",
                         "Ilse Marrow was appointed director of the Vantor Fisheries Agency on Monday. She previously "
                         "ran the coastal survey office."),
    "vantor-2021-b.json": ("Fishing quotas cut", "2021-03-15",
                           "The Vantor Fisheries Agency cut cod quotas by a fifth. Director Marrow said stocks had "
                           "fallen for three years."),
    "vantor-2024.json": ("Fisheries agency changes hands", "2024-07-01",
                         "Tomas Brekke became director of the Vantor Fisheries Agency on Monday, replacing Ilse "
                         "Marrow, who retired. Brekke led the agency's research unit for a decade."),
    "kessel-a.json": ("Kessel footbridge opens", "2024-05-02",
                      "The Kessel footbridge opened to walkers on Thursday. The bridge is 320 metres long and crosses "
                      "the river Aun."),
    "kessel-b.json": ("Cyclists banned from footbridge", "2024-05-20",
                      "Cyclists must now dismount on the 320m Kessel footbridge, the council said. The bridge opened "
                      "this month."),
    "weather.json": ("Storm closes schools", "2024-02-11",
                     "A storm closed 30 schools across the region on Sunday. Winds reached 110 km/h on the coast."),
    "library.json": ("Library reopens", "2023-11-03",
                     "The Orlin library reopened after a renovation that cost 4 million dollars. It now opens on "
                     "Sundays."),
}


@dataclass(frozen=True)
class Case:
    """A question and what its answer should show: ``answer`` (said in any equivalent form) and the articles
    that give it, and the other answers with the articles that give them (``{}``: none may be shown)."""

    question: str
    answer: str
    cited: frozenset[str]
    alternatives: dict[str, frozenset[str]]
    latest: bool = False


def case(question: str, answer: str, cited: set[str], alternatives: dict[str, set[str]] | None = None,
         latest: bool = False) -> Case:
    return Case(question, answer, frozenset(cited), {k: frozenset(v) for k, v in (alternatives or {}).items()},
                latest)


TARSK_OLD = {"tarsk-jan.json", "tarsk-jan-2.json"}
BELMOR_OLD = {"belmor-apr.json", "belmor-apr-2.json"}
CASES = [
    case("How many container cranes does the Port of Tarsk operate?", "18", {"tarsk-sep.json"}, {"14": TARSK_OLD}),
    case("What is the latest number of container cranes at the Port of Tarsk?", "18", {"tarsk-sep.json"},
         {"14": TARSK_OLD}, latest=True),
    case("How many container cranes did the Port of Tarsk operate in January 2023?", "14", TARSK_OLD),
    case("How much will the Belmor tunnel cost?", "$1.2bn", BELMOR_OLD, {"$1.6bn": {"belmor-jun.json"}}),
    case("What is the most recent cost of the Belmor tunnel?", "$1.6bn", {"belmor-jun.json"},
         {"$1.2bn": BELMOR_OLD}, latest=True),
    case("What did the ministry say the Belmor tunnel would cost in April 2022?", "$1.2bn", BELMOR_OLD),
    case("Who is the director of the Vantor Fisheries Agency?", "Tomas Brekke", {"vantor-2024.json"},
         {"Ilse Marrow": {"vantor-2021.json", "vantor-2021-b.json"}}),
    case("Who currently leads the Vantor Fisheries Agency?", "Tomas Brekke", {"vantor-2024.json"},
         {"Ilse Marrow": {"vantor-2021.json", "vantor-2021-b.json"}}, latest=True),
    case("Who was appointed director of the Vantor Fisheries Agency in 2021?", "Ilse Marrow",
         {"vantor-2021.json", "vantor-2021-b.json"}),
    case("How long is the Kessel footbridge?", "320 metres", {"kessel-a.json", "kessel-b.json"}),
    case("How many schools did the storm close?", "30", {"weather.json"}),
    case("How much did the renovation of the Orlin library cost?", "4 million dollars", {"library.json"}),
]


@dataclass(frozen=True)
class Outcome:
    answer_ok: bool
    cited_ok: bool  # every agreeing article cited, and only those
    alternatives_ok: bool  # every expected alternative, with its articles and their dates in the message
    no_false_conflict: bool

    @property
    def ok(self) -> bool:
        return self.answer_ok and self.cited_ok and self.alternatives_ok and self.no_false_conflict


def check(c: Case, a: Answer) -> Outcome:
    answer_ok = a.text is not None and relation(c.answer, a.text) is Relation.SAME
    cited_ok = {x.source for x in a.citations} == c.cited
    alternatives_ok = True
    for text, sources in c.alternatives.items():
        match = [alt for alt in a.alternatives if relation(text, alt.text) is Relation.SAME]
        dates = {long_date(x.date) for alt in match for x in alt.citations}
        newest = max((x.date for alt in match for x in alt.citations if x.date), default=None)
        alternatives_ok &= bool(match) and {x.source for alt in match for x in alt.citations} >= sources \
            and bool(dates) and str(long_date(newest)) in a.message
    expected = {t for t in c.alternatives}
    no_false_conflict = all(any(relation(t, alt.text) is Relation.SAME for t in expected) for alt in a.alternatives)
    return Outcome(answer_ok, cited_ok, alternatives_ok, no_false_conflict)


def planted(windows: list[float]) -> dict:
    out: dict = {}
    gate = NoAnswerGate.load()
    assert gate is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        for name, (title, day, text) in ARTICLES.items():
            (folder / name).write_text(json.dumps({"title": title, "date": day, "text": text}), encoding="utf-8")
        QA(folder, Path(tmp) / "index").refresh()
        for w in windows:
            # the shipped answerer (engine.default_answerer) with this conflict window
            qa = QA(folder, Path(tmp) / "index",
                    answerer=GatedAnswerer(SpanReader(abstain=False, conflict_window=w), gate))
            rows = []
            for c in CASES:
                a = qa.ask(c.question)
                o = check(c, a)
                rows.append({"question": c.question, "answer": a.text, "message": a.message,
                             "cited": sorted(x.source for x in a.citations),
                             "alternatives": [[alt.text, sorted(x.source for x in alt.citations)]
                                              for alt in a.alternatives],
                             **asdict(o), "ok": o.ok})
            out[w] = rows
    return out


def squad(windows: list[float], n: int, weights: str | None) -> dict:
    """Held-out SQuAD questions of bench/end_to_end.py (answerable reads): answers shown with an alternative,
    and answers citing another article in other words, per window."""

    qa = corpus_qa()
    reader = SpanReader(weights, abstain=False)
    gate = NoAnswerGate.load()
    assert gate is not None
    _, test = questions(n)
    pos, neg = read_all(qa, reader, ReadCache(READS_CACHE), test, passages_to_read(reader, 5))
    out = {}
    for w in windows:
        reader.conflict_window = w
        row = {}
        for side, reads in (("answerable", pos), ("unanswerable", neg)):
            shown = with_alt = reworded = 0
            for r in reads:
                a = reader.decide(r.question, list(r.passages), list(r.candidates))
                if a.text is None or gate.probability(a) < gate.threshold:
                    continue
                shown += 1
                with_alt += bool(a.alternatives)
                reworded += any(c.text != a.text for c in a.citations)
            row[side] = {"shown": shown, "with_alternative": with_alt, "cited_in_other_words": reworded}
        out[w] = row
    return out


def markdown(result: dict) -> str:
    lines = ["## Agreement and conflict across articles", "",
             f"`{result['command']}` ({result['date']}, {result['machine']}). Planted articles and questions: "
             "`bench/agreement.py`; a question is right when its answer is the planted one (in any equivalent form), "
             "it cites exactly the articles that give it, every planted different answer is shown with its "
             "articles and its newest date in the message, and nothing else is shown as a different answer.", "",
             "| conflict window | questions right | answer | cited | alternatives | no false conflict |",
             "|---|---|---|---|---|---|"]
    for w, rows in result["planted"].items():
        def count(key: str, rows: list = rows) -> str:
            return f"{sum(r[key] for r in rows)}/{len(rows)}"
        lines.append(f"| {w} | {count('ok')} | {count('answer_ok')} | {count('cited_ok')} | "
                     f"{count('alternatives_ok')} | {count('no_false_conflict')} |")
    if result.get("squad"):
        lines += ["", f"Held-out SQuAD questions (`bench/end_to_end.py`'s {result['n']} validation questions, read "
                  "with every article indexed (answerable) and with the question's own article taken out "
                  "(unanswerable); answers the gate shows). Each answer is in one article, so any different answer "
                  "from another article is an unrelated span.", "",
                  "| conflict window | questions | answers shown | shown with an alternative (false conflicts) | "
                  "citing another article in other words |", "|---|---|---|---|---|"]
        for w, row in result["squad"].items():
            for side, r in row.items():
                share = 100 * r["with_alternative"] / max(1, r["shown"])
                lines.append(f"| {w} | {side} | {r['shown']} | {r['with_alternative']} ({share:.1f}%) | "
                             f"{r['cited_in_other_words']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", default="5", help="conflict windows to compare, comma-separated")
    ap.add_argument("--squad", action="store_true", help="also count alternatives on held-out SQuAD questions")
    ap.add_argument("--n", type=int, default=300, help="SQuAD questions (as bench/end_to_end.py)")
    ap.add_argument("--weights", default=None, help="reader weights folder, as bench/end_to_end.py (the cached "
                    "reads are keyed by it)")
    ap.add_argument("--write", action="store_true", help="put the table in bench/RESULTS.md")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each question's answer")
    args = ap.parse_args()
    windows = [float(w) for w in args.windows.split(",")]
    result: dict = {"command": "python bench/agreement.py " + " ".join(sys.argv[1:]), "date": today(),
                    "machine": machine(), "n": args.n, "planted": planted(windows)}
    if args.squad:
        result["squad"] = squad(windows, args.n, args.weights)
    if args.verbose:
        for w, rows in result["planted"].items():
            for r in rows:
                print(w, json.dumps(r, ensure_ascii=False))
    print(markdown(result))
    if args.write:
        write_section("agreement", markdown(result))


if __name__ == "__main__":
    main()
