"""Small text helpers shared by the metrics, the rules and the terminal output.

>>> normalize_text("  L’application   HÉBERGÉE ")
"l'application hebergee"
>>> word_tokens("GIDAF est hébergée à Lyon")
['gidaf', 'est', 'hébergée', 'à', 'lyon']
>>> sanitize_terminal("ok\\x1b[31m rouge\\x1b[0m")
'ok rouge'
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Letters and digits of any script; "_" is excluded so "a_b" is two tokens like in rouge-score.
_WORD_RE = re.compile(r"[^\W_]+")
_SPACE_RE = re.compile(r"\s+")
_DIGIT_GROUP_RE = re.compile(r"(?<=\d) (?=\d{3}\b)")
# Combining diacritical marks (the blocks NFKD puts accents of Latin, Greek and Cyrillic in).
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"'})

# CSI/OSC/other escape sequences, then the remaining C0/C1 controls (tab and newline kept),
# then bidirectional overrides, which can make printed text read differently from its bytes.
_ANSI_RE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS/PM/APC/SOS ... ST
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[ -/]*[0-~]"  # two-character escapes
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def strip_accents(text: str) -> str:
    """Remove combining marks after NFKD decomposition: ``"hébergée" -> "hebergee"``."""
    if text.isascii():
        return text
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))


@functools.lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form used to compare phrases.

    NFKD (so no-break spaces become spaces), accents removed, casefolded, typographic
    quotes made ASCII, runs of whitespace collapsed, and digit groups joined
    (``"12 000"`` -> ``"12000"``).
    """
    text = strip_accents(text).casefold().translate(_QUOTES)
    text = _SPACE_RE.sub(" ", text).strip()
    return _DIGIT_GROUP_RE.sub("", text)


def word_tokens(text: str) -> list[str]:
    """Lowercased word tokens of any script (``"hébergée"`` stays one token)."""
    return _WORD_RE.findall(unicodedata.normalize("NFC", text).lower())


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """``(lowercased token, start, end)`` for each word of ``text`` (offsets into ``text``)."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def sanitize_terminal(text: str, *, single_line: bool = False) -> str:
    """Make model output safe to print: no ANSI escapes, control or bidi-override characters.

    With ``single_line=True`` newlines and tabs become spaces (for table cells).
    """
    text = _ANSI_RE.sub("", str(text))
    text = _CONTROL_RE.sub("", text)
    if single_line:
        text = _SPACE_RE.sub(" ", text).strip()
    return text
