"""The form behind every "why?" dialog: a reason from one of the lists in Settings → Reasons
(typed freely while that list is empty), an optional comment, and the record's version."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lejek.core.reasons import offered


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=100)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = list(offered(kind).values_list("label", flat=True))
        if reasons:
            self.fields["reason"] = forms.ChoiceField(
                label=_("Reason"), choices=[("", "—"), *((r, r) for r in reasons)]
            )
