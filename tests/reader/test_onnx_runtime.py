"""The span reader's inference backends (PyTorch, ONNX Runtime float32 and int8) with the REAL shipped
weights on real text: same spans and offsets as PyTorch, cached export, two processes, fallback; and its
tokenizer on the ``tokenizers`` package giving exactly the features ``transformers`` gave."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .test_span_reader import ARTICLE, GUAIDO, check_citations, passage

pytest.importorskip("onnxruntime")

REPO = Path(__file__).resolve().parents[2]
SEED_TEXT = next((REPO / "seeds").glob("*.txt")).read_text(encoding="utf-8")

# (question, passages' texts): clear questions over real news text, one or several passages each
CASES = [
    ("Who slipped out of Venezuela?", [GUAIDO]),
    ("Where did Guaido join aid convoys?", [GUAIDO]),
    ("Who is the Kremlin spokesman?", [ARTICLE]),
    ("How many countries have recognized Guaido as Venezuela's leader?", [ARTICLE]),
    ("When did Elliot Abrams attend the Security Council meeting?", [ARTICLE]),
    ("Who led talks on getting Nicolas Maduro out of power?", [ARTICLE, GUAIDO]),
    ("Who slipped out of Venezuela last week?", [SEED_TEXT[:1000], SEED_TEXT[800:1800], SEED_TEXT[1600:2600]]),
]


def _answers(reader):
    out = []
    for q, texts in CASES:
        ps = [passage(t, article_id=f"a{i}", rank=i) for i, t in enumerate(texts)]
        out.append((reader.answer(q, ps), {f"a{i}": t for i, t in enumerate(texts)}))
    return out


@pytest.fixture(scope="module")
def torch_answers():
    from qa.reader import SpanReader

    r = SpanReader(backend="torch", abstain=False)
    return r, _answers(r)


@pytest.mark.slow
def test_onnx_float32_returns_the_same_spans_as_torch(torch_answers):
    from qa.reader import SpanReader

    _, expected = torch_answers
    reader = SpanReader(backend="onnx", abstain=False)
    got = _answers(reader)
    assert reader.backend_used == "onnx"
    for (a, texts), (b, _) in zip(got, expected, strict=False):
        assert a.text == b.text, (a.question, a.text, b.text)
        assert [(c.article_id, c.start, c.end) for c in a.citations] == [
            (c.article_id, c.start, c.end) for c in b.citations
        ]
        assert a.score == pytest.approx(b.score, abs=1e-3)
        check_citations(a, texts)


@pytest.mark.slow
def test_onnx_int8_returns_the_same_spans_as_torch_up_to_a_boundary_word(torch_answers):
    """int8 weights move the logits a little, and by how much depends on the CPU's int8 kernels
    (AVX2, AVX-512, VNNI saturate and round differently), so a span boundary may move by a word
    ("Vice-President Mike Pence" for "Mike Pence") on one machine and not on another. What holds on
    every CPU: the span is in the same place of the same article, its offsets reproduce it, its
    confidence is close, and the words agree (token F1 against the float32 span)."""
    from qa.metrics import f1
    from qa.reader import SpanReader

    _, expected = torch_answers
    reader = SpanReader(backend="onnx-int8", abstain=False)
    got = _answers(reader)
    assert reader.backend_used == "onnx-int8"
    agreement = []
    for (a, texts), (b, _) in zip(got, expected, strict=False):
        check_citations(a, texts)
        ca, cb = a.citations[0], b.citations[0]
        assert ca.article_id == cb.article_id and ca.start < cb.end and cb.start < ca.end, (a.question, a.text, b.text)
        assert a.score == pytest.approx(b.score, abs=0.1)
        agreement.append(f1(a.text, b.text))
    # a boundary word off in every second span still passes; spans that merely touch do not
    assert sum(agreement) / len(agreement) >= 0.75, list(zip([q for q, _ in CASES], agreement, strict=False))


def test_int8_windows_do_not_depend_on_their_batch():
    """int8 quantises activations per batch, so each window runs alone: one question asked alone or
    with others gets exactly the same answer and confidence, also when a batch's windows are read on
    several cores at once."""
    from qa.reader.reader import SMALL_FORWARD, SpanReader

    reader = SpanReader(backend="onnx-int8", abstain=False)
    parallel = SpanReader(backend="onnx-int8", abstain=False, num_threads=2)
    qs = [
        "Who slipped out of Venezuela?",
        "How many countries have recognized Guaido?",
        "Who is the Kremlin spokesman?",
    ]
    qs = qs * (SMALL_FORWARD // len(qs) + 1)  # enough windows for the bulk path
    ps = [[passage(GUAIDO)], [passage(ARTICLE)], [passage(ARTICLE), passage(GUAIDO, article_id="a2", rank=1)]]
    ps = ps * (SMALL_FORWARD // 3 + 1)
    one = [(a.text, a.score) for a in (reader.answer(q, p) for q, p in zip(qs[:3], ps[:3], strict=False))]
    for r in (reader, parallel):
        many = r.answer_many(qs, ps)
        assert [(a.text, a.score) for a in many] == one * (len(qs) // 3)


@pytest.mark.slow
def test_onnx_float32_logits_match_torch_on_a_padded_batch(torch_answers):
    from qa.reader import SpanReader
    from qa.reader.features import collate_numpy, featurize

    torch_reader, _ = torch_answers
    reader = SpanReader(backend="onnx")
    feats = featurize(reader.tokenizer, ["Who is Maduro?", "Who slipped out of Venezuela?"], [ARTICLE, GUAIDO])
    ids, tt, mask = collate_numpy(feats)
    assert mask.min() == 0  # padding is exercised
    s_onnx, e_onnx = reader.logits(ids, tt, mask)
    s_torch, e_torch = torch_reader.logits(ids, tt, mask)
    real = mask == 1
    assert np.abs(s_onnx - s_torch)[real].max() < 1e-3
    assert np.abs(e_onnx - e_torch)[real].max() < 1e-3


@pytest.mark.slow
def test_export_is_cached_and_reused(tmp_path):
    from qa.reader.backends import OnnxSpanModel
    from qa.reader.shipped import WEIGHTS_DIR

    first = OnnxSpanModel(WEIGHTS_DIR, quantize=False, root=tmp_path)
    assert first.path.is_file() and first.path.stat().st_size > 10_000_000

    def no_export():
        raise AssertionError("the cached export should have been reused")

    again = OnnxSpanModel(WEIGHTS_DIR, no_export, quantize=False, root=tmp_path)
    assert again.path == first.path
    assert sorted(p.name for p in first.path.parent.iterdir()) == ["export.json", "model.onnx"]
    folder = first.path.parent.name
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder, folder + ".lock"]  # no temporary files left


RUN = """
import json, sys
from qa.reader import SpanReader
from qa.types import Passage
r = SpanReader(backend=sys.argv[1], abstain=False)
text = {text!r}
p = Passage(chunk_id=0, article_id="a", title="T", source="a.txt", start=0, end=len(text), text=text, score=1.0, rank=0)
a = r.answer("Who slipped out of Venezuela?", [p])
print(json.dumps({{"backend": r.backend_used, "text": a.text}}))
"""


def _spawn(code: str, backend: str, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "QA_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, backend], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_exporting_at_once(tmp_path):
    code = RUN.format(text=GUAIDO)
    procs = [_spawn(code, "onnx-int8", tmp_path) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["backend"] == "onnx-int8" and "Guaido" in r["text"] for r in results), results
    (folder,) = [p for p in (tmp_path / "reader-onnx").iterdir() if p.is_dir()]  # one export, no leftovers
    assert folder.name.startswith("reader-int8-")
    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "model.onnx"]


@pytest.mark.slow
def test_falls_back_to_torch_without_onnxruntime(tmp_path):
    code = "import sys; sys.modules['onnxruntime'] = None\n" + RUN.format(text=GUAIDO)  # import onnxruntime fails
    p = _spawn(code, "onnx-int8", tmp_path)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    res = json.loads(out.strip().splitlines()[-1])
    assert res["backend"] == "torch" and "Guaido" in res["text"]
    assert "needs onnxruntime" in err
    assert not (tmp_path / "reader-onnx").exists()


def test_unknown_backend_is_a_clear_error():
    from qa.reader import SpanReader

    with pytest.raises(
        ValueError, match=r"unknown reader backend 'tensorrt' \(from QA_READER_BACKEND or "
                          r"SpanReader\(backend=\.\.\.\)\): use one of torch, torch-int8, onnx, onnx-int8"
    ):
        SpanReader(backend="tensorrt")


def test_backend_from_environment(monkeypatch):
    from qa.reader import SpanReader
    from qa.reader.backends import DEFAULT_BACKEND

    monkeypatch.setenv("QA_READER_BACKEND", "torch")
    assert SpanReader().backend == "torch"
    monkeypatch.delenv("QA_READER_BACKEND")
    assert SpanReader().backend == DEFAULT_BACKEND


# ---------------------------------------------------------------- features without transformers


def _hf_featurize(tok, questions, contexts, max_seq_len, stride, max_query_tokens):
    """The reader's features as they were made with ``transformers.AutoTokenizer`` (the reference)."""
    qs = []
    for q in questions:
        q = " ".join(q.split())
        enc = tok(q, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) > max_query_tokens:
            q = q[: enc["offset_mapping"][max_query_tokens - 1][1]]
        qs.append(q)
    enc = tok(qs, list(contexts), truncation="only_second", max_length=max_seq_len, stride=stride,
              return_overflowing_tokens=True, return_offsets_mapping=True, return_token_type_ids=True, padding=False)
    out = []
    for i in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(i)
        ctx = [k for k, s in enumerate(seq) if s == 1]
        if not ctx:
            continue
        offsets = [
            (int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq, strict=False)
        ]
        out.append((int(enc["overflow_to_sample_mapping"][i]), list(enc["input_ids"][i]),
                    list(enc["token_type_ids"][i]), offsets, ctx[0], ctx[-1]))
    return out


def _real_pairs(n: int = 400):
    """(question, context) pairs from real data: SQuAD validation questions over their paragraphs and over
    whole articles (many windows each), BBC and Reuters news under those questions, plus edge cases."""
    import random

    from training.datasets import load_docs, load_examples, news_path

    rng = random.Random(7)
    examples = load_examples("squad20", "validation")
    rng.shuffle(examples)
    docs = list(load_docs("squad11").values())
    news = []
    for name in ("bbc", "reuters"):
        with open(news_path(name), encoding="utf-8") as f:
            news += [json.loads(line)["text"] for _, line in zip(range(300), f, strict=False)]
    pairs = [(ex.question, ex.context) for ex in examples[: n // 2]]
    pairs += [(ex.question, rng.choice(docs)["text"][:6000]) for ex in examples[n // 2: n // 2 + n // 8]]
    pairs += [(ex.question, rng.choice(news)) for ex in examples[n // 2 + n // 8: n]]
    long_q = " ".join(ex.question for ex in examples[:12])  # longer than max_query_tokens: cut
    pairs += [
        (long_q, examples[0].context),
        ("  Who   slipped\tout of\nVenezuela? ", GUAIDO),
        ("Qui a signé le traité à Genève, et où est née Zoë Saldaña?",
         "Le traité fut signé à Genève par Zoë Saldaña — 1999 ½ über naïve café 東京 Ελλάδα."),
        ("What?", "x"),
        ("Who is it?", "   "),
    ]
    return pairs


@pytest.mark.slow
def test_features_equal_those_of_transformers_on_real_text():
    """Every window of every pair: the same ids, type ids, offsets and context bounds as the
    ``transformers`` fast tokenizer gave, at the shipped settings and at other windows and strides."""
    from transformers import AutoTokenizer

    from qa.reader import WEIGHTS_DIR, SpanReader
    from qa.reader.features import ReaderTokenizer, featurize

    hf = AutoTokenizer.from_pretrained(str(WEIGHTS_DIR), local_files_only=True, use_fast=True)
    ours = ReaderTokenizer.from_dir(WEIGHTS_DIR)
    reader = SpanReader(backend="onnx-int8")
    pairs = _real_pairs()
    questions, contexts = [q for q, _ in pairs], [c for _, c in pairs]
    total = 0
    shapes = ((reader.max_seq_len, reader.stride, reader.max_query_tokens), (384, 128, 64), (128, 32, 16))
    for max_len, stride, max_q in shapes:
        want = _hf_featurize(hf, questions, contexts, max_len, stride, max_q)
        got = [(f.pair_index, f.input_ids, f.token_type_ids, f.offsets, f.context_start_token, f.context_end_token)
               for f in featurize(ours, questions, contexts, max_len, stride, max_q)]
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=False):
            assert g == w, (pairs[w[0]][0], pairs[w[0]][1][:80])
        total += len(got)
    assert total > 1500  # many windows, not a handful
    assert max(i for i, *_ in want) == len(pairs) - 2  # the whitespace-only context has no window


def test_reader_tokenizer_is_thread_safe_across_settings():
    """Each window setting has its own tokenizer, so threads using different settings never mix them."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.reader.features import ReaderTokenizer
    from qa.reader.shipped import WEIGHTS_DIR

    tok = ReaderTokenizer.from_dir(WEIGHTS_DIR)
    text = " ".join([ARTICLE] * 6)

    def windows(setting):
        return [len(e.ids) for _, e in tok.encode_pairs(["Who?"] * 3, [text] * 3, *setting)]

    settings = [(128, 32), (192, 64)] * 20
    expected = {s: windows(s) for s in set(settings)}
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(windows, settings)) == [expected[s] for s in settings]
