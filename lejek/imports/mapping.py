"""Which file column fills which field: the fields each kind offers, a guess from the headers,
and the checks a mapping passes before an import runs.

A mapping is JSON (see docs/import.md):

    {"columns": {"<header>": {"field": "<target>", "values": {"Yes": true, "Won": "Won"}}},
     "create_custom_fields": [{"key": "...", "label": "...", "type": "text", "choices": []}],
     "date_format": "DD.MM.YYYY", "defaults": {"source": "Targi", "campaign": "Targi 2026"}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lejek.contacts.normalize import fold
from lejek.core.models import CustomField
from lejek.core.services_custom_fields import KEY_PATTERN

CUSTOM = "custom:"
REACHED = "reached:"
KINDS = ("lead", "contact", "company", "deal")
DEFAULT_KEYS = {
    "lead": {"source", "campaign", "event", "owner", "team", "status"},
    "contact": {"owner", "team", "company"},
    "company": {"owner", "team", "country"},
    "deal": {"owner", "team", "pipeline", "stage", "currency", "lost_reason"},
}
VALUE_TYPES = (str, bool, int, float, type(None))


@dataclass(frozen=True)
class TargetField:
    name: str
    label: str
    required: bool = False
    help: str = ""


# name → (label, header spellings folded to bare letters and digits)
_PERSON = {
    "first_name": (gettext_lazy("First name"), ["firstname", "imie", "givenname", "forename"]),
    "last_name": (gettext_lazy("Last name"), ["lastname", "nazwisko", "surname", "familyname"]),
    "full_name": (
        gettext_lazy("Full name (split into first and last)"),
        ["name", "fullname", "imieinazwisko", "osoba", "person", "contactname", "uczestnik"],
    ),
    "email": (
        gettext_lazy("E-mail"),
        ["email", "mail", "emailaddress", "adresemail", "poczta", "adresmailowy"],
    ),
    "phone": (
        gettext_lazy("Phone"),
        ["phone", "telefon", "tel", "phonenumber", "mobile", "komorka", "nrtelefonu", "gsm"],
    ),
    "title": (gettext_lazy("Job title"), ["title", "jobtitle", "stanowisko", "position"]),
}
_OWNERSHIP = {
    "owner": (
        gettext_lazy("Owner (name or e-mail)"),
        ["owner", "wlasciciel", "opiekun", "handlowiec", "salesrep", "assignedto"],
    ),
    "team": (gettext_lazy("Team"), ["team", "zespol"]),
    "created": (
        gettext_lazy("Created on"),
        ["created", "createdat", "createdon", "datecreated", "utworzono", "datautworzenia"],
    ),
}
_COUNTRY = {"country": (gettext_lazy("Country (2 letters)"), ["country", "kraj", "countrycode"])}

SPECS: dict[str, dict[str, tuple[Any, list[str]]]] = {
    "lead": {
        **_PERSON,
        "company": (
            gettext_lazy("Company"),
            ["company", "firma", "companyname", "nazwafirmy", "organizacja", "organization"],
        ),
        "status": (gettext_lazy("Status"), ["status", "leadstatus"]),
        "source": (gettext_lazy("Source"), ["source", "zrodlo", "leadsource"]),
        "campaign": (gettext_lazy("Campaign"), ["campaign", "kampania"]),
        "medium": (gettext_lazy("Medium"), ["medium"]),
        "utm_source": ("utm_source", ["utmsource"]),
        "utm_medium": ("utm_medium", ["utmmedium"]),
        "utm_campaign": ("utm_campaign", ["utmcampaign"]),
        "utm_term": ("utm_term", ["utmterm"]),
        "utm_content": ("utm_content", ["utmcontent"]),
        "referrer": (gettext_lazy("Referrer"), ["referrer", "referer"]),
        **_COUNTRY,
        "region": (gettext_lazy("Region"), ["region", "wojewodztwo", "state"]),
        "company_size": (
            gettext_lazy("Company size (employees)"),
            ["companysize", "employees", "wielkoscfirmy", "liczbapracownikow", "pracownicy"],
        ),
        "description": (
            gettext_lazy("Description"),
            ["description", "opis", "notes", "notatki", "uwagi", "comment", "komentarz"],
        ),
        **_OWNERSHIP,
    },
    "contact": {
        **_PERSON,
        "company": (
            gettext_lazy("Company (found or created by name)"),
            ["company", "firma", "companyname", "nazwafirmy", "organizacja", "organization"],
        ),
        "preferred_channel": (
            gettext_lazy("Preferred channel"),
            ["preferredchannel", "kanal", "preferowanykanal"],
        ),
        "language": (gettext_lazy("Language"), ["language", "jezyk"]),
        "notes": (gettext_lazy("Notes"), ["notes", "notatki", "uwagi", "opis", "description"]),
        **_OWNERSHIP,
    },
    "company": {
        "name": (
            gettext_lazy("Name"),
            ["name", "company", "companyname", "nazwa", "firma", "nazwafirmy", "organizacja"],
        ),
        "nip": (gettext_lazy("NIP (tax id)"), ["nip", "taxid", "vatid", "vatnumber"]),
        "domain": (gettext_lazy("Website or domain"), ["domain", "website", "www", "domena"]),
        "industry": (gettext_lazy("Industry"), ["industry", "branza", "sector"]),
        "size": (
            gettext_lazy("Employees"),
            ["size", "employees", "liczbapracownikow", "pracownicy", "wielkosc"],
        ),
        "phone": (gettext_lazy("Phone"), ["phone", "telefon", "tel"]),
        "email": (gettext_lazy("E-mail"), ["email", "mail", "adresemail"]),
        "street": (gettext_lazy("Street"), ["street", "ulica", "address", "adres"]),
        "city": (gettext_lazy("City"), ["city", "miasto", "miejscowosc", "town"]),
        "postal_code": (
            gettext_lazy("Postal code"),
            ["postalcode", "zip", "zipcode", "kodpocztowy", "kod", "postcode"],
        ),
        **_COUNTRY,
        "notes": (gettext_lazy("Notes"), ["notes", "notatki", "uwagi", "opis", "description"]),
        **_OWNERSHIP,
    },
    "deal": {
        "title": (gettext_lazy("Title"), ["title", "tytul", "dealname", "deal", "nazwa", "name"]),
        "external_id": (
            gettext_lazy("External id (skips deals already imported)"),
            ["id", "externalid", "dealid", "identyfikator", "nr", "numer"],
        ),
        "pipeline": (gettext_lazy("Pipeline"), ["pipeline", "lejek"]),
        "stage": (gettext_lazy("Stage reached"), ["stage", "etap", "dealstage", "status"]),
        "amount": (gettext_lazy("Amount"), ["amount", "kwota", "value", "wartosc", "dealvalue"]),
        "currency": (gettext_lazy("Currency"), ["currency", "waluta"]),
        "created": (
            gettext_lazy("Created on"),
            ["created", "createdat", "createdon", "datecreated", "utworzono", "datautworzenia"],
        ),
        "closed": (
            gettext_lazy("Closed on"),
            ["closed", "closedat", "closedon", "closedate", "datazamkniecia", "zamknieto"],
        ),
        "expected_close_date": (
            gettext_lazy("Expected close"),
            ["expectedclose", "expectedclosedate", "planowanezamkniecie"],
        ),
        "lost_reason": (
            gettext_lazy("Lost reason"),
            ["lostreason", "powodprzegranej", "przyczynautraty"],
        ),
        "company": (
            gettext_lazy("Company (found or created by name)"),
            ["company", "firma", "companyname", "nazwafirmy", "organizacja", "klient"],
        ),
        "contact": (
            gettext_lazy("Contact (name or e-mail; found or created)"),
            ["contact", "kontakt", "osoba", "contactname", "contactemail", "email"],
        ),
        "source": (gettext_lazy("Source"), ["source", "zrodlo"]),
        "products": (
            gettext_lazy("Products (names or SKUs, separated by ;)"),
            ["products", "produkty", "product", "produkt", "sku"],
        ),
        "owner": _OWNERSHIP["owner"],
        "team": _OWNERSHIP["team"],
    },
}
REQUIRED = {"contact": {"last_name"}, "company": {"name"}, "deal": {"title"}}
# A full name fills the first and last names, so it satisfies a required last name.
SATISFIES = {"full_name": {"first_name", "last_name"}}
HELP = {
    "full_name": gettext_lazy("“Jan Kowalski” becomes first name Jan, last name Kowalski."),
    "owner": gettext_lazy("A user's e-mail or full name."),
    "created": gettext_lazy("Keeps the record's original date for reports."),
    "stage": gettext_lazy("The stage the deal got to; earlier stages are filled in."),
    "external_id": gettext_lazy("Rows whose id was imported before are skipped."),
}


def header_key(text: str) -> str:
    """A header reduced for matching: "Adres e-mail" → "adresemail"."""
    return re.sub(r"[^a-z0-9]", "", fold(str(text or "")))


def _stage_names() -> list[str]:
    from lejek.pipeline.models import Stage

    names = Stage.objects.order_by("pipeline__position", "position").values_list("name", flat=True)
    return list(dict.fromkeys(names))


def target_fields(kind: str) -> list[TargetField]:
    """Every field a column of a `kind` file may fill, custom fields included."""
    if kind not in SPECS:
        raise ValueError(kind)
    required = REQUIRED.get(kind, set())
    fields = [
        TargetField(name, str(label), name in required, str(HELP.get(name, "")))
        for name, (label, _spellings) in SPECS[kind].items()
    ]
    if kind == "deal":
        for stage in _stage_names():
            label = _("Date the deal reached “%(stage)s”") % {"stage": stage}
            fields.append(TargetField(f"{REACHED}{stage}", label))
    for definition in CustomField.objects.filter(entity=kind):
        fields.append(
            TargetField(f"{CUSTOM}{definition.key}", str(definition.label), definition.required)
        )
    return fields


def guess_mapping(kind: str, headers: list[str]) -> dict:
    """A mapping that sends each recognisable header to its field (each field used once)."""
    spellings: dict[str, str] = {}
    for name, (label, words) in SPECS[kind].items():
        for word in [header_key(label), header_key(name), *words]:
            spellings.setdefault(word, name)
    for definition in CustomField.objects.filter(entity=kind):
        for word in (header_key(definition.key), header_key(definition.label)):
            spellings.setdefault(word, f"{CUSTOM}{definition.key}")
    if kind == "deal":
        for stage in _stage_names():
            spellings.setdefault(header_key(stage), f"{REACHED}{stage}")
    used: set[str] = set()
    columns: dict[str, dict] = {}
    for header in headers:
        field = spellings.get(header_key(header), "")
        if field in used:
            field = ""
        used.add(field)
        columns[header] = {"field": field}
    return {"columns": columns, "create_custom_fields": [], "date_format": "", "defaults": {}}


def clean_mapping(kind: str, mapping: dict, headers: list[str]) -> dict:
    """The mapping checked and normalised; ValidationError lists every problem found."""
    if kind not in SPECS:
        raise ValidationError(_("Unknown kind of records: %(kind)s.") % {"kind": kind})
    if not isinstance(mapping, dict):
        raise ValidationError(_("The mapping must be a JSON object."))
    errors: list[str] = []
    new_fields = _clean_new_fields(kind, mapping.get("create_custom_fields") or [], errors)
    known = {f.name for f in target_fields(kind)} | {f"{CUSTOM}{f['key']}" for f in new_fields}
    columns = _clean_columns(mapping.get("columns"), headers, known, errors)
    mapped = {spec["field"] for spec in columns.values() if spec["field"]}
    for name in REQUIRED.get(kind, set()) | _required_custom(kind, new_fields):
        if name not in mapped and not any(name in SATISFIES.get(m, ()) for m in mapped):
            label = next((f.label for f in target_fields(kind) if f.name == name), name)
            message = _("Choose the column for “%(field)s”: it is required.")
            errors.append(message % {"field": label})
    if kind == "lead" and not mapped & {"first_name", "last_name", "full_name", "email", "company"}:
        errors.append(_("Map a name, an e-mail or a company column: a lead needs one of them."))
    date_format = str(mapping.get("date_format") or "").strip()
    defaults = mapping.get("defaults") or {}
    if not isinstance(defaults, dict):
        errors.append(_("“defaults” must be an object."))
        defaults = {}
    for key in defaults:
        if key not in DEFAULT_KEYS[kind]:
            errors.append(_("“%(key)s” cannot be given as a default.") % {"key": key})
    if errors:
        raise ValidationError(errors)
    return {
        "columns": columns,
        "create_custom_fields": new_fields,
        "date_format": date_format,
        "defaults": {k: v for k, v in defaults.items() if v not in (None, "")},
    }


def _required_custom(kind: str, new_fields: list[dict]) -> set[str]:
    rows = CustomField.objects.filter(entity=kind, required=True).values_list("key", flat=True)
    return {f"{CUSTOM}{key}" for key in rows}


def _clean_columns(raw: Any, headers: list[str], known: set[str], errors: list[str]) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.append(_("“columns” must be an object of header → field."))
        return {}
    columns: dict[str, dict] = {header: {"field": ""} for header in headers}
    used: dict[str, str] = {}
    for header, spec in raw.items():
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, dict):
            errors.append(_("Column “%(header)s”: give a field name.") % {"header": header})
            continue
        field = str(spec.get("field") or "").strip()
        if header not in columns:
            if field:
                errors.append(_("Column “%(header)s” is not in the file.") % {"header": header})
            continue
        if field and field not in known:
            errors.append(
                _("Column “%(header)s”: “%(field)s” is not a field you can import into.")
                % {"header": header, "field": field}
            )
            continue
        if field and field in used:
            errors.append(
                _("Columns “%(first)s” and “%(second)s” both fill “%(field)s”; choose one.")
                % {"first": used[field], "second": header, "field": field}
            )
            continue
        values = spec.get("values") or {}
        if not isinstance(values, dict) or not all(
            isinstance(v, VALUE_TYPES) for v in values.values()
        ):
            errors.append(
                _("Column “%(header)s”: “values” must map file values to plain values.")
                % {"header": header}
            )
            continue
        if field:
            used[field] = header
        cleaned: dict[str, Any] = {"field": field}
        if values:
            cleaned["values"] = {str(k): v for k, v in values.items()}
        columns[header] = cleaned
    return columns


def _clean_new_fields(kind: str, raw: Any, errors: list[str]) -> list[dict]:
    if not isinstance(raw, list):
        errors.append(_("“create_custom_fields” must be a list."))
        return []
    cleaned = []
    types = set(CustomField.Type.values)
    for spec in raw:
        if not isinstance(spec, dict):
            errors.append(_("Each new custom field needs a key, a label and a type."))
            continue
        key = str(spec.get("key") or "").strip()
        label = str(spec.get("label") or key).strip()
        field_type = str(spec.get("type") or "text").strip()
        choices = spec.get("choices") or []
        if not KEY_PATTERN.match(key):
            errors.append(
                _("Custom field key “%(key)s”: use lowercase letters, digits and underscores.")
                % {"key": key}
            )
            continue
        if field_type not in types:
            errors.append(
                _("Custom field “%(key)s”: type must be one of %(types)s.")
                % {"key": key, "types": ", ".join(sorted(types))}
            )
            continue
        existing = CustomField.objects.filter(entity=kind, key=key).first()
        if existing is not None and existing.type != field_type:
            errors.append(
                _("Custom field “%(key)s” already exists with another type.") % {"key": key}
            )
            continue
        if field_type == "choice" and not (isinstance(choices, list) and choices):
            errors.append(_("Custom field “%(key)s”: list its choices.") % {"key": key})
            continue
        cleaned.append(
            {"key": key, "label": label, "type": field_type, "choices": list(choices or [])}
        )
    return cleaned
