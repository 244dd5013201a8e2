"""Averaging reader weights (training.soup): the mean of each tensor, the first folder's other files,
a clear error for folders that are not the same network, and a soup that still reads."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from qa.config import WEIGHTS_DIR
from qa.reader import SpanReader
from training.soup import average_weights, main


def _reader_dir(path, tensors, config="{}"):
    path.mkdir(parents=True)
    save_file(tensors, str(path / "model.safetensors"))
    (path / "reader_config.json").write_text(config)
    return path


def test_average_weights_is_the_elementwise_mean_in_the_first_dtype(tmp_path):
    half = torch.float16
    a = _reader_dir(tmp_path / "a", {"w": torch.tensor([1.0, 2.0], dtype=half), "b": torch.zeros(3, dtype=half)},
                    '{"x": 1}')
    b = _reader_dir(tmp_path / "b", {"w": torch.tensor([3.0, 6.0], dtype=half), "b": torch.ones(3, dtype=half)},
                    '{"x": 2}')
    out = average_weights([a, b], tmp_path / "soup")
    mean = load_file(str(out / "model.safetensors"))
    assert mean["w"].tolist() == [2.0, 4.0] and mean["b"].tolist() == [0.5, 0.5, 0.5]
    assert mean["w"].dtype == torch.float16
    assert (out / "reader_config.json").read_text() == '{"x": 1}'  # the first folder's settings
    assert not list(out.glob("*.tmp"))


def test_average_weights_refuses_different_networks_and_empty_folders(tmp_path):
    a = _reader_dir(tmp_path / "a", {"w": torch.zeros(2)})
    b = _reader_dir(tmp_path / "b", {"w": torch.zeros(3)})
    with pytest.raises(ValueError, match="not the same network"):
        average_weights([a, b], tmp_path / "soup")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no model.safetensors"):
        average_weights([a, tmp_path / "empty"], tmp_path / "soup")
    assert not (tmp_path / "soup" / "model.safetensors").exists()


def test_cli_reports_a_bad_folder_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "soup")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "holds no model.safetensors" in err and "Traceback" not in err


def test_a_soup_of_the_shipped_reader_with_itself_reads_the_same(tmp_path):
    out = average_weights([WEIGHTS_DIR, WEIGHTS_DIR], tmp_path / "soup")
    q, ctx = "Who slipped out of Venezuela?", "Juan Guaido slipped out of Venezuela last week, defying a court order."
    (_, shipped), = SpanReader(backend="torch").predict_pairs([q], [ctx])
    (_, souped), = SpanReader(out, backend="torch").predict_pairs([q], [ctx])
    assert ctx[souped[0].start_char : souped[0].end_char] == ctx[shipped[0].start_char : shipped[0].end_char]
    assert "Guaido" in ctx[souped[0].start_char : souped[0].end_char]
