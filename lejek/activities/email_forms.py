"""Forms for e-mail templates, the e-mail composer and file uploads."""

from __future__ import annotations

import re

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lejek.activities.email_templates import check_syntax, templates_for
from lejek.activities.models import EmailTemplate

KIND_LABELS = {
    "lead": _("Leads"),
    "contact": _("Contacts"),
    "company": _("Companies"),
    "deal": _("Deals"),
}
MODELS = {
    "lead": ("leads", "Lead"),
    "contact": ("contacts", "Contact"),
    "company": ("contacts", "Company"),
    "deal": ("pipeline", "Deal"),
}
PREVIEW_CHOICES_PER_KIND = 15
ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")


def record_model(kind: str):
    return apps.get_model(*MODELS[kind])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the checks by content happen in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def preview_choices(user, kinds: list[str] | None = None) -> list[tuple]:
    """The latest records the user can see, grouped by kind, as "kind:pk" choices."""
    groups: list[tuple] = [("", _("Choose a record…"))]
    for kind in kinds or list(MODELS):
        model = record_model(kind)
        rows = model.objects.visible_to(user).order_by("-created_at", "-id")
        rows = rows[:PREVIEW_CHOICES_PER_KIND]
        options = [(f"{kind}:{row.pk}", str(row)) for row in rows]
        if options:
            groups.append((KIND_LABELS[kind], options))
    return groups


class EmailTemplateForm(forms.ModelForm):
    record_kinds = forms.MultipleChoiceField(
        label=_("Offer it for"),
        choices=list(KIND_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to offer it on every kind of record."),
    )
    preview_record = forms.ChoiceField(label=_("Preview with"), required=False)

    class Meta:
        model = EmailTemplate
        fields = ["name", "language", "subject", "body", "record_kinds", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        help_texts = {
            "body": _(
                "Plain text. Merge fields such as {{ contact.first_name }} are filled in "
                "for the record the e-mail is about."
            ),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preview_record"].choices = preview_choices(user)
        if not self.instance.pk:
            self.fields["language"].initial = user.language or settings.LANGUAGE_CODE

    def clean(self):
        cleaned = super().clean()
        subject, body = cleaned.get("subject"), cleaned.get("body")
        if subject is not None and body is not None:
            try:
                check_syntax(subject=subject, body=body)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    self.add_error(name, errors)
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def split_addresses(raw: str) -> list[str]:
    return [part for part in ADDRESS_SEPARATORS.split(raw or "") if part]


class ComposeForm(forms.Form):
    template = forms.ChoiceField(label=_("Template"), required=False)
    to = forms.CharField(
        label=_("To"),
        max_length=2000,
        help_text=_("Separate several addresses with commas."),
    )
    cc = forms.CharField(label=_("Cc"), max_length=2000, required=False)
    title = forms.CharField(label=_("Subject"), max_length=1000)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 12}))
    files = MultipleFileField(label=_("Attach files"), required=False)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.templates = {str(t.pk): t for t in templates_for(kind)}
        self.fields["template"].choices = [("", _("No template"))] + [
            (pk, str(t)) for pk, t in self.templates.items()
        ]
        self.fields["files"].help_text = _(
            "Up to %(mb)s MB: PDF, images, office documents, TXT or CSV. They are also kept "
            "with the record."
        ) % {"mb": settings.LEJEK_MAX_ATTACHMENT_MB}

    def chosen_template(self) -> EmailTemplate | None:
        key = self.data.get("template") if self.is_bound else self.initial.get("template")
        return self.templates.get(str(key or ""))

    def clean_to(self) -> list[str]:
        return split_addresses(self.cleaned_data["to"])

    def clean_cc(self) -> list[str]:
        return split_addresses(self.cleaned_data["cc"])


class AttachmentForm(forms.Form):
    files = MultipleFileField(label=_("Files"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _(
            "Up to %(mb)s MB each: PDF, images (PNG, JPEG, GIF, WebP), Word, Excel, PowerPoint, "
            "OpenDocument, TXT or CSV."
        ) % {"mb": settings.LEJEK_MAX_ATTACHMENT_MB}
