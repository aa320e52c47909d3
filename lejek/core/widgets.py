"""Form widgets for the browser's own date pickers.

<input type="date"> and "datetime-local" send and expect ISO values whatever the page's
language, so the value must be rendered in ISO too (Polish formats would leave them blank).
"""

from __future__ import annotations

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
