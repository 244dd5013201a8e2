"""How the shipped models and calibrations are made: not part of the installed package (``qa``).

- :mod:`training.datasets`: where the data sets are, the fixed train/validation split, SQuAD loading, and
  the corpora the benchmarks and calibrations index;
- :mod:`training.augment`: synthetic news questions for the reader (Reuters-21578);
- :mod:`training.train`: fine-tune the span reader, calibrate and export it (``qa/reader/weights/``);
- :mod:`training.soup`: average readers fine-tuned from the same start;
- :mod:`training.evaluate`: the reader on the validation articles; ``--calibrate`` writes its null
  threshold and confidence to ``reader_config.json``;
- :mod:`training.calibration`: the one logistic fit, and the writer of ``qa/calibration.json``;
- :mod:`training.calibrate_gate`: fit the reader's no-answer gate (``qa/calibration.json``);
- :mod:`training.calibrate_sentence`: the sentence answerer's no-answer threshold (``qa/calibration.json``).

Run from a checkout: ``python -m training.<module> --help``. The data are read from ``../shared/data``
(:mod:`training.datasets`); torch and transformers are needed to train.
"""
