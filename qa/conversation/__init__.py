"""Conversations: follow-up questions that lean on the previous turn.

    from qa import QA
    from qa.conversation.chat import Conversation

    chat = Conversation(QA("seeds", "vectors"))
    chat.ask("Who slipped out of Venezuela last week?")   # answer: Guaido
    answer = chat.ask("Where did he go?")
    chat.last.understood_question                       # 'Where did Guaido go?'
    chat.last.rewrite_note                              # None: nothing was in doubt
    answer.text, answer.citations[0].title

A follow-up is rewritten into a standalone question before it is answered, using only the previous
turn (its understood question and its answer, with the sentence around the answer when known). No
model is used; the rules are:

- **Names and their kinds.** Names are runs of capitalised words; titles and role words before them
  are dropped ("Culture Minister Renaud de Vabres" is "Renaud de Vabres"), and a run ending in a title
  ("the Home Secretary") names an office, not a candidate. Each name gets a kind: person, people,
  organisation, group, place, thing, or unknown. The evidence, strongest first: the words around it in
  the previous turn (a title or role word before it, "said" or ", who" after it, an organisation word
  in it such as "Corp" or "Committee", an acronym, ", the investment bank" after it); how the indexed
  articles use it (:class:`Vocabulary`: "Mr X", "X said he", "X, 52," or "said X." for a person; "the X",
  "X said it", ", which" for a non-person; "in X", "X-based" for a place; "X have ..." for a group);
  then what the previous question asked for ("Who ...?" is answered by a person, or by an
  organisation when the name is not a person's; "Which village ...?" by a place; "Which club ...?" by
  an organisation). A name used as an adjective ("the Cardiff gig", "US tycoon") gives way to its
  phrase or is skipped.
- **Pronouns.** he/she/him/his/her/hers stand only for a person, and not for one the articles call by
  the other gender (a full name or first name is trusted; a surname shared by others only reorders);
  it/its for anything but a person (a two- or three-word name nobody has typed looks like a person's
  and is not taken); they/them/their for an organisation, a group, names joined by "and", a plural
  phrase ("the Barclay twins"), or, failing those, the two persons of the previous turn; "there" for a
  place (a where-question's short answer, or a name after in/to/from). "it" may also be the previous
  question's unnamed topic ("How much will the program cost?" -> "How will the program be
  financed?"). Candidates come in the order of what the previous turn was about: after a question
  asking for someone or something ("Who ...", "Which club ..."), the answer first ("Who is Juan
  Guaido?" is about the name it holds, so that name first); otherwise the question's own names. When
  the follow-up repeats the verb of a "Who/What did ...?" question, roles carry over: after "Who
  created AZT?", "When did he create it?" reads "he" as the answer and "it" as AZT. A pronoun repeated
  for the same referent is replaced once; "it" after say/mean/deny and in "do it" or "is it true that"
  is left alone.
- **Ellipsis.** "Why?", "When?", "Where?", "How?" (and "When did it happen?") ask the previous question
  again with the new question word, grammatically: "How many countries have recognized Guaido?" ->
  "Why have countries recognized Guaido?"; "Who quit UKIP?" (answer: Kilroy-Silk) -> "Why did
  Kilroy-Silk quit UKIP?"; a gap left by "What"/"Which"/"How much" takes a short answer, or "that" /
  "those <noun>" ("How much did the party repay to X?" (£500) -> "Why did the party repay £500 to X?").
  "What about X?" swaps X for the previous question's name of the same kind, or for the phrase with
  the same head noun or role ("the Dayton show" for "the Toledo show", "the chairman" for "the
  president"), keeping the question's form. "and in 2019?" / "and to France?" replace the phrase
  with that preposition (a time phrase replaces a time phrase), or are added.
- **When unsure, as typed.** A pronoun with no candidate of its kind, or an ellipsis that cannot be
  rebuilt ("Why?" after "Who is X?"), leaves the question as typed and says so in
  :attr:`Rewrite.note` (on a turn, :attr:`Turn.rewrite_note`): "Asked as typed: could not tell who 'he'
  is." A guess that could have gone another way is made and noted too ("What about the economy,
  regarding Guaido?"; "Took 'he' to be X; it could also be Y.").

A question that needs no history (the first one, or one that names what it asks about) passes through
unchanged. The articles' evidence is read lazily, name by name, and remembered for the index
generation (:func:`qa.vocabulary.vocabulary`); without it the rules run on the turn's own text alone, and
a name with no evidence there stays unknown (so "he" is asked as typed rather than guessed).
:func:`~qa.conversation.rewrite.resolve` does the rewriting alone, without answering;
:func:`~qa.conversation.rewrite.rewrite` is its short form.

One module a concern: :mod:`~qa.conversation.turns` (turns, rewrites, what the previous turn holds),
:mod:`~qa.conversation.pronouns`, :mod:`~qa.conversation.ellipsis`, :mod:`~qa.conversation.rewrite` (the
two together) and :mod:`~qa.conversation.chat` (the :class:`Conversation`). Names and their kinds come from
:mod:`qa.entities` and :mod:`qa.vocabulary`, the word lists from :mod:`qa.words`.
"""
