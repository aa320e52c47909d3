"""The lead create and edit form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext

from lejek.contacts.forms import RecordForm
from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import normalize_country
from lejek.leads.models import Lead

IDENTITY_FIELDS = ("first_name", "last_name", "email", "company_name")
ATTRIBUTION_FIELDS = (
    "medium",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "country",
    "region",
    "company_size",
)


class LeadForm(RecordForm):
    model = Lead
    custom_entity = "lead"
    field_names = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "title",
        "status",
        "source",
        "campaign",
        "contact",
        "company",
        "description",
        "owner",
        "team",
        # Where the lead came from, beyond source and campaign.
        *ATTRIBUTION_FIELDS,
    ]
    widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def limit_choices(self) -> None:
        super().limit_choices()
        self.limit("contact", Contact.objects.visible_to(self.user))
        self.limit("company", Company.objects.visible_to(self.user))
        # Converting and disqualifying have their own buttons: they ask for more than a status.
        current = self.instance.status if self.is_edit else None
        closed = {Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED}
        self.fields["status"].choices = [
            (value, label)
            for value, label in Lead.Status.choices
            if value not in closed or value == current
        ]

    def clean_country(self) -> str:
        return normalize_country(self.cleaned_data["country"])

    def clean(self):
        cleaned = super().clean()
        # The database insists on some identity; say so in words before it does.
        has_errors = any(name in self.errors for name in IDENTITY_FIELDS)
        if not has_errors and not any(cleaned.get(name) for name in IDENTITY_FIELDS):
            self.add_error(None, gettext("Give the lead a name, an e-mail address or a company."))
        return cleaned
