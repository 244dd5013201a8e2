"""Answering: from a question and its retrieved passages to an :class:`~qa.types.Answer`.

- :mod:`qa.answerers.protocol`: the :class:`Answerer` protocol every answerer implements, and the
  citation / no-answer helpers they share;
- :mod:`qa.answerers.answer_types`: what kind of answer a question wants (pure regular expressions);
- :mod:`qa.answerers.rerank`: re-ranking the passages a reader read by its best span;
- :mod:`qa.answerers.gate`: the calibrated no-answer gate in front of a reader;
- :mod:`qa.answerers.sentence`: the sentence answerer, the fallback without the span reader;
- :mod:`qa.answerers.calibration`: the shipped ``qa/calibration.json``;
- :mod:`qa.answerers.equivalence`: whether two answer spans say the same thing ("fifty" / "50");
- :mod:`qa.answerers.agreement`: which articles agree with an answer, which differ, and how to say so.

The span reader itself is its own room, :mod:`qa.reader`.
"""
