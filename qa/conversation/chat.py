"""A chat over a :class:`~qa.engine.QA`: :class:`Conversation` remembers the turns and asks each
follow-up in its standalone form (:func:`qa.conversation.rewrite.resolve`).
"""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING

from qa.conversation.rewrite import resolve
from qa.conversation.turns import Rewrite, Turn
from qa.types import Answer
from qa.vocabulary import EMPTY_VOCABULARY, Vocabulary, vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA


class Conversation:
    """A chat over a :class:`~qa.engine.QA`: remembers turns and resolves follow-ups.

        chat = Conversation(qa)
        chat.ask("Who slipped out of Venezuela last week?")
        chat.ask("Where did he go?")                 # answered as "Where did Guaido go?"
        [t.understood_question for t in chat.turns]
        chat.last.rewrite_note                       # set when the follow-up was asked as typed

    ``max_turns`` bounds the kept history. Each conversation is meant for one person; share the
    :class:`~qa.engine.QA` between conversations, not the conversation.
    """

    def __init__(self, qa: QA | None, *, max_turns: int = 50, k: int | None = None) -> None:
        self.qa = qa
        self.k = k
        self.max_turns = max_turns
        self.turns: list[Turn] = []

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def reset(self) -> None:
        self.turns.clear()

    def vocabulary(self) -> Vocabulary:
        return vocabulary(self.qa) if self.qa is not None else EMPTY_VOCABULARY

    def common_words(self) -> Container[str]:
        """Words the indexed articles use in lower case (so a capitalised one starts a sentence)."""
        return self.vocabulary().lower

    def resolve(self, question: str) -> Rewrite:
        """The standalone form of ``question`` given the previous turn, with its note."""
        if not self.turns:
            return Rewrite(question)
        return resolve(question, self.turns[-1], vocabulary=self.vocabulary())

    def understand(self, question: str) -> tuple[str, str | None]:
        """The standalone form of ``question`` given the previous turn (unchanged when there is none)."""
        r = self.resolve(question)
        return r.question, r.entity

    def ask_turn(self, question: str, *, since: str | None = None, until: str | None = None) -> Turn:
        """Answer ``question`` (a follow-up or not) and return the whole :class:`Turn`; ``since``/``until``
        keep the answer to articles dated in that range (:meth:`qa.engine.QA.ask`)."""
        if self.qa is None:
            raise ValueError("this conversation has no QA to answer with")
        r = self.resolve(question)
        # only a set filter is passed on, so any object with ``ask(question, k=...)`` can still answer
        dates = {name: d for name, d in (("since", since), ("until", until)) if d is not None}
        answer = self.qa.ask(r.question, k=self.k, **dates)
        turn = Turn(question=question, understood_question=answer.question, answer=answer, entity=r.entity,
                    rewrite_note=r.note)
        self.turns.append(turn)
        del self.turns[:-self.max_turns]
        return turn

    def ask(self, question: str) -> Answer:
        """Answer ``question``; ``self.last.understood_question`` is the question as it was understood."""
        return self.ask_turn(question).answer
