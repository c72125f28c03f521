"""Line breaks for Thai, which is written without spaces between words.

Pango finds break opportunities in Thai with libthai's dictionary, which also breaks
inside compound words ("กระดูก|สันหลัง", spine bone). Here every Thai run of a handout's
HTML is split into words by PyThaiNLP's dictionary segmenter: a ZERO WIDTH SPACE
(U+200B, invisible, no glyph) between words allows a break there, and a word of
:data:`MIN_KEPT` letters or more is kept whole in a ``<span class="w">`` (``white-space:
nowrap`` in handout.css). A short bold text (a glossary term such as เอ็มอาร์ไอ, MRI,
which the dictionary does not know) is kept whole too. A WORD JOINER would be the
plain-text way, but WeasyPrint then breaks lines anywhere. Only text between tags in
``<body>`` is touched: never an attribute, a title or a stylesheet.
"""

from __future__ import annotations

import re
from functools import lru_cache

ZERO_WIDTH_SPACE = "\u200b"
MIN_KEPT = 4  # shorter words have no place libthai would break
MAX_BOLD_KEPT = 20  # a bold Thai text up to this long is one term: kept whole
_THAI_RUN = re.compile(r"[\u0e00-\u0e7f]+")
_LINK_OPEN = re.compile(r"<a[\s>]", re.I)
_TEXT = re.compile(r"(<(?:script|style)\b.*?</(?:script|style)>|<[^>]*>)", re.S | re.I)


@lru_cache(maxsize=16384)
def thai_words(text: str) -> tuple[str, ...]:
    """The words of a Thai text (spaces kept as tokens), by PyThaiNLP's dictionary segmenter (newmm):
    the one segmenter for line breaks and word counts. Cached: the same texts come back per level."""
    from pythainlp.tokenize import word_tokenize  # only Thai handouts need it

    return tuple(word for word in word_tokenize(text, engine="newmm", keep_whitespace=True) if word)


def break_thai(text: str, keep_whole: bool = True) -> str:
    """``text`` (HTML text, between tags) with breaks allowed between Thai words and, with
    ``keep_whole``, longer words kept whole."""

    def words(match: re.Match) -> str:
        return ZERO_WIDTH_SPACE.join(
            f'<span class="w">{word}</span>' if keep_whole and len(word) >= MIN_KEPT else word
            for word in thai_words(match.group(0))
        )

    return _THAI_RUN.sub(words, text)


WORD_JOINER = "\u2060"
_MARK = re.compile(r"[\u0e31\u0e33-\u0e3a\u0e47-\u0e4e]")  # drawn on the letter before: never apart from it


def keep_words(text: str) -> str:
    """``text`` for a CSS string (the running title in the page margin, which cannot hold spans): Thai
    words joined inside by WORD JOINERs, separated by ZERO WIDTH SPACEs. Other text is unchanged."""

    def words(match: re.Match) -> str:
        return ZERO_WIDTH_SPACE.join(_joined(word) for word in thai_words(match.group(0)))

    return _THAI_RUN.sub(words, text)


def _joined(word: str) -> str:
    return "".join((WORD_JOINER if index and not _MARK.match(char) else "") + char for index, char in enumerate(word))


def break_thai_html(html: str) -> str:
    """The text between the tags of ``<body>`` through :func:`break_thai`."""
    start = html.find("<body")
    if start < 0 or not _THAI_RUN.search(html, start):
        return html
    pieces = _TEXT.split(html[start:])
    out, in_link = [], False
    for index, piece in enumerate(pieces):
        if index % 2:
            in_link = _LINK_OPEN.match(piece) is not None or (in_link and piece.lower() != "</a>")
            out.append(piece)
        elif in_link:  # a link's text stays plain: a span inside would part the link from its tag (PDF/UA)
            out.append(break_thai(piece, keep_whole=False))
        elif index and pieces[index - 1].lower() == "<strong>" and _is_term(piece):
            out.append(f'<span class="w">{piece}</span>')
        else:
            out.append(break_thai(piece))
    return html[:start] + "".join(out)


def _is_term(text: str) -> bool:
    """A short bold Thai text without spaces: a term to keep on one line."""
    return bool(_THAI_RUN.search(text)) and len(text) <= MAX_BOLD_KEPT and not any(c.isspace() for c in text)
