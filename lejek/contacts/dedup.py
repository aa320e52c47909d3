"""Finding the person or company a new record is already known as.

The services store e-mails, phones, NIPs and domains normalised (see normalize.py), so these
lookups are plain equality on indexed columns. Company names vary more ("Acme Sp. z o.o." vs
"ACME spółka z ograniczoną odpowiedzialnością"), so they are compared by company_key in Python,
over the few candidates an indexed prefix query returns.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import (
    company_key,
    is_free_mail,
    normalize_domain,
    normalize_email,
    normalize_nip,
    normalize_phone,
)

# How many same-prefix companies are compared by key; a prefix this common matches nothing useful.
MAX_NAME_CANDIDATES = 200


def _quietly(normalise, raw: str | None) -> str:
    """A search key, or "" when the input cannot be normalised (a bad key finds nothing)."""
    try:
        return normalise(raw)
    except ValidationError:
        return ""


def _oldest(rows: QuerySet):
    return rows.order_by("created_at", "pk").first()


def find_contact(
    *, email: str | None = None, phone: str | None = None, among: QuerySet | None = None
) -> Contact | None:
    """The oldest contact with this e-mail, or else with this phone (among `among`, if given)."""
    rows = Contact.objects.all() if among is None else among
    email = normalize_email(email)
    if email:
        found = _oldest(rows.filter(email=email))
        if found is not None:
            return found
    phone = _quietly(normalize_phone, phone)
    if phone:
        return _oldest(rows.filter(phone=phone))
    return None


def find_company(
    *,
    nip: str | None = None,
    domain: str | None = None,
    name: str | None = None,
    among: QuerySet | None = None,
) -> Company | None:
    """The oldest company with this NIP, else this domain, else the same name up to its legal
    form, case, diacritics and punctuation."""
    rows = Company.objects.all() if among is None else among
    nip = _quietly(normalize_nip, nip)
    if nip:
        found = _oldest(rows.filter(nip=nip))
        if found is not None:
            return found
    domain = _quietly(normalize_domain, domain)
    if domain and not is_free_mail(domain):
        found = _oldest(rows.filter(domain=domain))
        if found is not None:
            return found
    return _find_company_by_name(rows, name)


def _find_company_by_name(rows: QuerySet, name: str | None) -> Company | None:
    key = company_key(name)
    if not key:
        return None
    # Prefix of the first word as typed (diacritics kept): an indexed query, few candidates.
    first_word = re.search(r"\w+", name or "")
    if first_word is None:
        return None
    candidates = rows.filter(name__istartswith=first_word.group(0)).order_by("created_at", "pk")
    for company in candidates[:MAX_NAME_CANDIDATES]:
        if company_key(company.name) == key:
            return company
    return None
