"""Finding records by words typed into a search box: the one rule every search follows.

Every word must appear in at least one of the fields, ignoring letter case ("jan kowalski"
finds Jan Kowalski, whichever field holds which name).

Letter case and Polish letters: PostgreSQL compares upper-cased text, so "łódź" finds
"Łódź". SQLite's LIKE folds the case of ASCII letters only, so there a word with other letters
is also looked for as written in lower case, upper case and capitalised ("łódź", "ŁÓDŹ",
"Łódź"): the spellings names and cities actually have. A mixed-case spelling such as
"ŁóDź" is found on PostgreSQL only.
"""

from __future__ import annotations

from functools import reduce
from operator import and_, or_

from django.db import connection
from django.db.models import Q

MAX_WORDS = 6
MAX_WORD_LENGTH = 100


def spellings(word: str) -> set[str]:
    """The forms of `word` to look for so that letter case does not matter."""
    if word.isascii() or connection.vendor != "sqlite":
        return {word}
    return {word, word.lower(), word.upper(), word.capitalize()}


def words_of(text: str | None) -> list[str]:
    return [word[:MAX_WORD_LENGTH] for word in (text or "").split()[:MAX_WORDS]]


def any_field_contains(fields: list[str], word: str) -> Q:
    """`word` appears in at least one of `fields`."""
    return reduce(
        or_, (Q(**{f"{name}__icontains": form}) for name in fields for form in spellings(word))
    )


def matching(fields: list[str], text: str | None) -> Q:
    """Every word of `text` appears in at least one of `fields`; Q() when there are none."""
    words = words_of(text)
    if not words:
        return Q()
    return reduce(and_, (any_field_contains(fields, word) for word in words))
