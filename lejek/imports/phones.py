"""Phone numbers for imports: normalize_phone, with a short cut for the Polish shape.

`phonenumbers.parse` costs about 60 µs a number and `is_valid_number` another 30 µs, which
is most of the time an import spends on a row that has a phone. Nearly every number in a
Polish file is written "+48 601 234 567" or "601 234 567" (spaces or hyphens anywhere), and
for those the parser's answer is known without running it: the country code is 48, the nine
digits are the national number (Poland has no national prefix to strip), and the number is
valid when phonenumbers' own metadata patterns for Poland say so. Anything else (other
countries, letters, extensions, a leading 0 or 48 that the parser would read as a prefix, an
invalid number and its message) goes through normalize_phone itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers

from lejek.contacts.normalize import normalize_phone

# Nine digits after "+48", or nine bare digits (a Polish number by default), with a space or
# a hyphen allowed before any digit. ASCII digits only: the parser turns other scripts'
# digits into these, and \d would let them through unchanged.
_PLUS_48 = re.compile(r"\+48(?:[ -]?[0-9]){9}")
_BARE = re.compile(r"[0-9](?:[ -]?[0-9]){8}")
_SEPARATORS = str.maketrans("", "", " -")


def import_phone(raw: str) -> str:
    """normalize_phone(raw), the same value or the same ValidationError."""
    text = raw.strip()
    national = ""
    if _PLUS_48.fullmatch(text):
        national = text[3:].translate(_SEPARATORS)
    elif _BARE.fullmatch(text):
        national = text.translate(_SEPARATORS)
        # Bare numbers starting 00 (the international prefix) or 48 (the country code) are
        # read by the parser in ways that depend on the rest of the number.
        if national.startswith(("0", "48")):
            national = ""
    if national and national[0] != "0" and _polish_number_is_valid()(national):
        return f"+48{national}"
    return normalize_phone(raw)


@functools.cache
def _polish_number_is_valid() -> Callable[[str], bool]:
    """phonenumbers' _number_type_helper(...) != UNKNOWN for Poland, from the same metadata:
    the general pattern, then any number type's pattern (mobile only where its pattern is not
    the fixed-line one), each within its possible lengths."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("PL")
    types = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        types.append(metadata.mobile)
    general = _matcher(metadata.general_desc)
    matchers = [_matcher(desc) for desc in types if desc is not None]

    def is_valid(national: str) -> bool:
        return general(national) and any(match(national) for match in matchers)

    return is_valid


def _matcher(desc) -> Callable[[str], bool]:
    """phonenumbers' _is_number_matching_desc for one description, compiled once."""
    pattern = desc.national_number_pattern
    if not pattern:
        return lambda _number: False
    compiled = re.compile(pattern)
    lengths = frozenset(desc.possible_length or ())

    def match(number: str) -> bool:
        if lengths and len(number) not in lengths:
            return False
        return compiled.fullmatch(number) is not None

    return match
