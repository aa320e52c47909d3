"""Create and edit forms for companies and contacts, and the base every record form shares.

The forms only read and check input; the record is written by the app's service, which also
validates the whole record. So these are plain forms built from the model's fields (not
ModelForms, which would write the input into the instance before the service sees it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model, Q, QuerySet
from django.forms.models import fields_for_model, model_to_dict
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.contacts.models import Company, Contact
from lejek.core.custom_fields import CustomFieldsFormMixin
from lejek.core.errors import ConflictError
from lejek.core.listing import parse_id
from lejek.users.models import Role
from lejek.users.visibility import assignable_owners, assignable_teams

# Longer lists of related records are cut in selects (see RecordForm.limit).
MAX_OPTIONS = 500
# Records whose long selects get a search box (the lookup view of lejek.core).
SEARCHABLE = {"lead", "contact", "company", "deal"}


def owner_choices(user) -> list[tuple[int, str]]:
    """Owners offered in a list's filter bar (beside "me" and "unassigned")."""
    return [(u.pk, str(u)) for u in assignable_owners(user) if u.pk != user.pk]


def team_choices(user) -> list[tuple[int, str]]:
    return [(t.pk, t.name) for t in assignable_teams(user)]


def with_current(qs: QuerySet, current_id: int | None) -> QuerySet:
    """Keep a record's present value selectable even if it is outside the usual choices,
    so saving an unrelated change never silently clears it."""
    if current_id is None:
        return qs
    return qs.model._default_manager.filter(Q(pk__in=qs.values("pk")) | Q(pk=current_id))


class RecordForm(CustomFieldsFormMixin, forms.Form):
    """A create/edit form for an owned record (owner, team, custom fields, edit version).

    Subclasses set `model`, `field_names`, `custom_entity` and may narrow `related` choices.
    """

    model: type[Model]
    field_names: list[str] = []
    widgets: dict[str, forms.Widget] = {}
    # Fields typed the local way ("12 345,50" in Polish).
    localized_fields: tuple[str, ...] = ()
    field_classes: dict[str, type[forms.Field]] = {}
    template_name = "contacts/record_form_fields.html"

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, user, instance: Model | None = None, **kwargs):
        self.user = user
        self.instance = instance
        initial = kwargs.pop("initial", {})
        if instance is not None:
            initial = {**model_to_dict(instance, self.field_names), **initial}
            initial["version"] = instance.version
        else:
            initial = {**self.default_initial(user), **initial}
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, initial=initial, **kwargs)
        # Model fields come first, then custom fields (added by the mixin), then the version.
        model_fields = fields_for_model(
            self.model,
            fields=self.field_names,
            widgets=self.widgets,
            localized_fields=self.localized_fields,
            field_classes=self.field_classes,
        )
        self.fields = {**model_fields, **self.fields}
        version = self.fields.pop("version")
        if self.is_edit:
            version.required = True
            self.fields["version"] = version
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and not field.required:
                field.empty_label = "—"
        self.limit_choices()

    @property
    def is_edit(self) -> bool:
        return self.instance is not None

    def default_initial(self, user) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        if user.role != Role.MARKETING:
            initial["owner"] = user.pk
        if user.team_ids:
            initial["team"] = user.team_ids[0]
        return initial

    def current(self, name: str) -> int | None:
        return getattr(self.instance, f"{name}_id", None) if self.instance else None

    def limit(self, name: str, qs: QuerySet, *, empty_label: str = "—") -> None:
        """Offer `qs` (plus the present value) in the select `name`.

        Long lists are cut to the first MAX_OPTIONS for the page to stay light; the value
        already chosen is always offered, and any record of `qs` is accepted.
        """
        field = self.fields.get(name)
        if field is None:
            return
        field.queryset = with_current(qs, self.current(name))
        options = list(field.queryset[: MAX_OPTIONS + 1])
        if len(options) > MAX_OPTIONS:
            options = options[:MAX_OPTIONS]
            # The page carries a search box that asks for the rest (see lejek.js).
            entity = qs.model._meta.model_name
            if entity in SEARCHABLE:
                field.widget.attrs["data-lookup"] = reverse("lookup", args=[entity])
                field.widget.attrs["data-lookup-placeholder"] = gettext("Type to search…")
        wanted = {self.current(name), self.initial.get(name), parse_id(self.data.get(name) or "")}
        missing = wanted - {None} - {option.pk for option in options}
        if missing:
            options += list(field.queryset.filter(pk__in=missing))
        field.choices = [("", empty_label), *((option.pk, str(option)) for option in options)]

    def limit_choices(self) -> None:
        """Offer only owners and teams the user may assign, and records the user can see."""
        self.limit("owner", assignable_owners(self.user), empty_label=gettext("Unassigned"))
        self.limit("team", assignable_teams(self.user))

    def clean_version(self):
        version = self.cleaned_data.get("version")
        if self.is_edit and version is None:
            raise ValidationError(gettext("Reload the page and try again."))
        return version

    def values(self) -> dict[str, Any]:
        """The model field values for the service (custom fields separately, as `custom`)."""
        return {name: self.cleaned_data[name] for name in self.field_names}

    def update_values(self) -> dict[str, Any]:
        return {**self.values(), "custom": self.cleaned_data["custom"]}

    def model_fields(self) -> list:
        return [self[name] for name in self.fields if name in self.field_names]

    def custom_bound_fields(self) -> list:
        return [self[name] for name in self.custom_field_names()]


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form, next to the fields it names."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        name = f"cf_{key.removeprefix('custom.')}" if key.startswith("custom.") else key
        if name == NON_FIELD_ERRORS or name not in form.fields:
            label = "" if name == NON_FIELD_ERRORS else f"{key}: "
            form.add_error(None, [f"{label}{m}" for m in messages])
        else:
            form.add_error(name, messages)


def save_through[T](form: forms.Form, call: Callable[[], T]) -> T | None:
    """Run a service call for a valid form; its refusals become form errors (None returned).

    PermissionDenied is not caught: the view answers 403.
    """
    try:
        return call()
    except ConflictError as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        attach_errors(form, exc)
    return None


class CompanyForm(RecordForm):
    model = Company
    custom_entity = "company"
    field_names = [
        "name",
        "nip",
        "domain",
        "industry",
        "size",
        "phone",
        "email",
        "street",
        "city",
        "postal_code",
        "country",
        "notes",
        "owner",
        "team",
    ]
    widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Room for the ways people write a NIP; clean_nip keeps the 10 digits.
        self.fields["nip"] = forms.CharField(
            label=self.fields["nip"].label,
            max_length=20,
            required=False,
            help_text=_("10 digits; dashes and a PL prefix are fine."),
        )

    def clean_nip(self) -> str:
        # People paste NIPs as 123-456-78-90 or with a PL prefix; the record keeps the digits.
        raw = self.cleaned_data["nip"].strip().upper().removeprefix("PL")
        digits = "".join(ch for ch in raw if ch.isdigit())
        if raw and (len(digits) != 10 or any(ch not in "0123456789- " for ch in raw)):
            raise ValidationError(gettext("A NIP has 10 digits."))
        return digits

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()


class ContactForm(RecordForm):
    model = Contact
    custom_entity = "contact"
    field_names = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "company",
        "preferred_channel",
        "language",
        "notes",
        "owner",
        "team",
    ]
    widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def limit_choices(self) -> None:
        super().limit_choices()
        self.limit("company", Company.objects.visible_to(self.user))
