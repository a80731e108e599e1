"""French stop words: the one list dyag's readers of French share.

:data:`FRENCH_STOP_WORDS` are the words that carry no meaning of their own: articles and
determiners, prepositions, conjunctions, pronouns (elided ones too: the "l" of "l'application"),
negation, auxiliaries and interrogatives. ``à``, ``été`` and ``être`` are listed with and without
their accents: the language check reads words as written, the other readers fold accents first.

Its readers:

- :mod:`dyag.evaluation.rules.extract`: the words ignored when two phrases are compared
  (``same_phrase``) and crossed when an acronym's expansion runs on ("... pour les Professionnels");
  :mod:`dyag.evaluation.rules.faithful_reading` drops them from a host's words;
- the ``language`` rule (:mod:`dyag.evaluation.rules.basic`): its French profile is the list
  without :data:`ALSO_ENGLISH`;
- :func:`dyag.data.templates.content_words`: :data:`QUESTION_STOP_WORDS`, the list plus the
  words every catalog question uses.

>>> {"pour", "les", "qu", "quel"} <= FRENCH_STOP_WORDS and "gestion" not in FRENCH_STOP_WORDS
True
>>> sorted(ALSO_ENGLISH - FRENCH_STOP_WORDS), "application" in QUESTION_STOP_WORDS - FRENCH_STOP_WORDS
([], True)
"""

from __future__ import annotations

FRENCH_STOP_WORDS = frozenset(
    """
    le la les l un une des du de d au aux ce cet cette ces ma mon mes ta ton tes sa son ses leur leurs
    a à avec dans en par pour sur
    et ou mais puis
    je j me moi tu t te toi il ils elle elles on nous vous se s y c n qu que qui quoi
    ne pas plus
    ai as est sont ete été etre être peut peux
    quand quel quelle quels quelles combien comment
    """.split()
)

#: Words of :data:`FRENCH_STOP_WORDS` that English text uses as much ("a", "as", "on", "me", the "t"
#: of "don't", "comment", "AI"): the ``language`` rule does not count them as French, so that
#: "It runs on a server as a web service" still reads as English.
ALSO_ENGLISH = frozenset("a ai as comment me on t".split())

#: Stop words of a question about the catalog: :data:`FRENCH_STOP_WORDS` and "application(s)",
#: which every such question may use without saying what it asks ("Où est hébergée l'application X ?").
QUESTION_STOP_WORDS = FRENCH_STOP_WORDS | {"application", "applications"}
