"""E-mail templates: merge fields, their sandboxed rendering, and every write to templates.

Merge fields use Django's template syntax, on an engine that knows only a few harmless tags
and filters (no {% load %}, {% include %}, {% url %}, {% debug %}) and no loaders. The
context holds only the documented fields, as strings inside `Fields` objects that have no
methods, so a template cannot reach a model, its methods or the settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import Node, VariableNode
from django.template.defaulttags import WithNode
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from lejek.activities.models import SUBJECTS, EmailTemplate
from lejek.core.events import record_event, snapshot
from lejek.core.money import format_money
from lejek.users.models import Role

# The documented merge fields (docs/email.md lists the same).
FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "full_name", "email", "phone", "title"),
    "company": ("name", "email", "phone", "city", "nip"),
    "deal": ("title", "amount", "currency", "stage", "expected_close_date"),
    "lead": ("first_name", "last_name", "full_name", "email", "phone", "company_name", "title"),
    "rep": ("first_name", "last_name", "full_name", "email"),
}
EDITORS = (Role.ADMIN, Role.MANAGER, Role.MARKETING)
TEMPLATE_FIELDS = ["name", "language", "subject", "body", "record_kinds", "is_active"]
MAX_OUTPUT = 100_000

# The only tags and filters a template may use (docs/email.md lists the same). No loops: the
# fields are single strings, and nested loops over them would only make rendering slow.
SAFE_TAGS = {
    "if": defaulttags.do_if,
    "with": defaulttags.do_with,
    "firstof": defaulttags.firstof,
    "comment": defaulttags.comment,
}
SAFE_FILTERS = (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatechars",
    "truncatewords",
    "cut",
    "yesno",
    "length",
    "first",
    "last",
    "join",
)


def sandbox_library() -> Library:
    library = Library()
    for name, compile_function in SAFE_TAGS.items():
        library.tag(name, compile_function)
    for name in SAFE_FILTERS:
        library.filter(name, getattr(defaultfilters, name))
    return library


# This module is the merge engine's one builtin library: `register` is what it loads.
register = sandbox_library()


class MergeEngine(Engine):
    default_builtins = ["lejek.activities.email_templates"]


ENGINE = MergeEngine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False)


class Fields:
    """The strings one template variable offers (`contact.first_name`), and nothing else.

    No public methods and nothing to iterate: a lookup is either a documented field or empty.
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, str]):
        self._values = values

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __str__(self) -> str:
        return ""


@dataclass
class Rendered:
    subject: str
    body: str
    language: str
    unknown: list[str] = field(default_factory=list)  # fields we do not know: render empty
    empty: list[str] = field(default_factory=list)  # known fields with no value for this record


# Rendering ---------------------------------------------------------------------------------


def compile_text(source: str, field_name: str):
    try:
        return ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            {field_name: _("This template has an error: %(error)s") % {"error": exc}}
        ) from exc


def check_syntax(*, subject: str, body: str) -> None:
    errors = {}
    for name, source in (("subject", subject), ("body", body)):
        try:
            compile_text(source, name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _local_names(nodes: list[Node]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, WithNode):
            names.update(node.extra_context)
    return names


def used_fields(template) -> tuple[list[str], list[str]]:
    """(known, unknown) merge fields that the template prints, as "contact.first_name"."""
    nodes = template.nodelist.get_nodes_by_type(Node)
    local = _local_names(nodes)
    known: list[str] = []
    unknown: list[str] = []
    for node in nodes:
        if not isinstance(node, VariableNode) or node.filter_expression.var is None:
            continue
        lookups = getattr(node.filter_expression.var, "lookups", None)
        if not lookups or lookups[0] in local:
            continue
        name = ".".join(lookups)
        is_known = len(lookups) == 2 and lookups[1] in FIELDS.get(lookups[0], ())
        target = known if is_known else unknown
        if name not in target:
            target.append(name)
    return known, unknown


def render_email(*, subject: str, body: str, record, sender, language: str) -> Rendered:
    """Fill the merge fields for `record` in `language`; note unknown and empty fields."""
    subject_template = compile_text(subject, "subject")
    body_template = compile_text(body, "body")
    with translation.override(language):
        values = merge_values(record, sender=sender)
        context = {"autoescape": False}
        rendered_subject = subject_template.render(Context(values, **context))
        rendered_body = body_template.render(Context(values, **context))
    known: list[str] = []
    unknown: list[str] = []
    for template in (subject_template, body_template):
        more_known, more_unknown = used_fields(template)
        known += [name for name in more_known if name not in known]
        unknown += [name for name in more_unknown if name not in unknown]
    empty = [name for name in known if not _value(values, name)]
    return Rendered(
        subject=" ".join(rendered_subject.split())[:200],
        body=rendered_body[:MAX_OUTPUT],
        language=language,
        unknown=unknown,
        empty=empty,
    )


def render_template(template: EmailTemplate, *, record, sender) -> Rendered:
    return render_email(
        subject=template.subject,
        body=template.body,
        record=record,
        sender=sender,
        language=template.language,
    )


def _value(values: dict[str, Fields], name: str) -> str:
    group, _dot, key = name.partition(".")
    try:
        return values[group][key]
    except KeyError:
        return ""


# The merge context -------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _person(obj) -> dict[str, str]:
    if obj is None:
        return {}
    first, last = _text(obj.first_name), _text(obj.last_name)
    return {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "email": _text(obj.email),
        "phone": _text(getattr(obj, "phone", "")),
        "title": _text(getattr(obj, "title", "")),
    }


def _company(obj) -> dict[str, str]:
    if obj is None:
        return {}
    return {
        "name": obj.name,
        "email": obj.email,
        "phone": obj.phone,
        "city": obj.city,
        "nip": obj.nip,
    }


def _lead(obj) -> dict[str, str]:
    if obj is None:
        return {}
    return {**_person(obj), "company_name": obj.company_name}


def _deal(obj) -> dict[str, str]:
    if obj is None:
        return {}
    language = translation.get_language() or "pl"
    close = obj.expected_close_date
    return {
        "title": obj.title,
        "amount": format_money(obj.amount, obj.currency, language) if obj.amount else "",
        "currency": obj.currency,
        "stage": str(obj.stage),
        "expected_close_date": formats.date_format(close, "DATE_FORMAT") if close else "",
    }


def merge_values(record, *, sender) -> dict[str, Fields]:
    """The documented fields for `record` (a lead, contact, company or deal) and its sender.

    A lead with no linked contact or company lends its own name, e-mail and company name,
    so one template works for leads and contacts alike.
    """
    kind = record._meta.model_name
    groups: dict[str, dict[str, str]] = {}
    if kind == "lead":
        groups["lead"] = _lead(record)
        groups["contact"] = _person(record.contact) if record.contact_id else _person(record)
        groups["company"] = (
            _company(record.company) if record.company_id else {"name": record.company_name}
        )
    elif kind == "contact":
        groups["contact"] = _person(record)
        groups["company"] = _company(record.company)
    elif kind == "company":
        groups["company"] = _company(record)
    elif kind == "deal":
        groups["deal"] = _deal(record)
        groups["contact"] = _person(record.contact)
        company = record.company or (record.contact.company if record.contact else None)
        groups["company"] = _company(company)
        groups["lead"] = _lead(record.lead)
    groups["rep"] = {k: v for k, v in _person(sender).items() if k in FIELDS["rep"]}
    return {
        group: Fields({name: groups.get(group, {}).get(name, "") for name in names})
        for group, names in FIELDS.items()
    }


def field_names() -> list[str]:
    return [f"{group}.{name}" for group, names in FIELDS.items() for name in names]


# Reads -------------------------------------------------------------------------------------


def templates_for(kind: str):
    """Active templates offered for a kind of record, in the order people pick them."""
    templates = EmailTemplate.objects.filter(is_active=True)
    return [t for t in templates if t.offered_for(kind)]


def can_manage(user) -> bool:
    return bool(user.is_authenticated and user.role in EDITORS)


# Writes ------------------------------------------------------------------------------------


def _ensure_can_manage(actor) -> None:
    if not can_manage(actor):
        raise PermissionDenied(_("Only admins, managers and marketing manage e-mail templates."))


def _validate(template: EmailTemplate) -> None:
    unknown_kinds = [kind for kind in template.record_kinds if kind not in SUBJECTS]
    if unknown_kinds:
        raise ValidationError({"record_kinds": _("Choose leads, contacts, companies or deals.")})
    template.full_clean()
    check_syntax(subject=template.subject, body=template.body)


@transaction.atomic
def email_template_create(*, actor, **values: Any) -> EmailTemplate:
    _ensure_can_manage(actor)
    template = EmailTemplate(created_by=actor, **values)
    _validate(template)
    template.save()
    record_event(
        actor=actor,
        verb="email_template.created",
        obj=template,
        after=snapshot(template, TEMPLATE_FIELDS),
    )
    return template


@transaction.atomic
def email_template_update(*, actor, template: EmailTemplate, values: dict) -> EmailTemplate:
    _ensure_can_manage(actor)
    before = snapshot(template, TEMPLATE_FIELDS)
    for name, value in values.items():
        if name not in TEMPLATE_FIELDS:
            raise ValidationError({name: _("Unknown field.")})
        setattr(template, name, value)
    template.updated_at = timezone.now()
    _validate(template)
    template.save()
    record_event(
        actor=actor,
        verb="email_template.updated",
        obj=template,
        before=before,
        after=snapshot(template, TEMPLATE_FIELDS),
    )
    return template


@transaction.atomic
def email_template_delete(*, actor, template: EmailTemplate) -> None:
    _ensure_can_manage(actor)
    record_event(
        actor=actor,
        verb="email_template.deleted",
        obj=template,
        before=snapshot(template, TEMPLATE_FIELDS),
    )
    template.delete()
