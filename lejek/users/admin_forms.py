"""Forms of the admin's "Users and teams" pages. They read and check input; services write."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.users.models import Role, Team, User


def _password_input() -> forms.PasswordInput:
    # "new-password" keeps browsers from filling in the admin's own saved password.
    return forms.PasswordInput(attrs={"autocomplete": "new-password"})


class TeamsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Team.objects.order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("Teams"),
            help_text=_(
                "Reps share their teams' unassigned records; managers see all their teams' records."
            ),
            **kwargs,
        )


class UserEditForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        help_text=_(
            "Reps see their own and their team's unassigned records, managers their teams', "
            "marketing all leads, admins everything."
        ),
    )
    teams = TeamsField()
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("Lejek speaks it to them, on screen and in e-mails."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_for(user: User) -> dict:
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "teams": [team.pk for team in user.teams.all()],
            "language": user.language,
        }


class UserCreateForm(UserEditForm):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("They sign in with it; it cannot change later."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=_password_input(),
        help_text=_("Leave it empty to set one later; until then they cannot sign in."),
    )

    field_order = ["email", "first_name", "last_name", "role", "teams", "language", "password"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(gettext("Someone already uses this e-mail address."))
        return email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            # Validators compare the password with the person's name and e-mail.
            person = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, person)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=_password_input(),
    )
    password_again = forms.CharField(
        label=_("New password again"), strip=False, widget=_password_input()
    )

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        # Built per request, so the rules read in the admin's language.
        self.fields["password"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password"), cleaned.get("password_again")
        if first and second and first != second:
            self.add_error("password_again", gettext("The two passwords differ."))
        return cleaned


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "last_name", "email"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Members"),
        help_text=_("People keep their other teams."),
    )

    def __init__(self, *args, team: Team | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.team = team
        if team is not None:
            # Deactivated members stay listed, so saving the name does not drop them.
            self.fields["members"].queryset = (
                User.objects.filter(Q(is_active=True) | Q(teams=team))
                .distinct()
                .order_by("first_name", "last_name", "email")
            )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Team.objects.filter(name__iexact=name)
        if self.team is not None:
            others = others.exclude(pk=self.team.pk)
        if others.exists():
            raise ValidationError(gettext("There is already a team with this name."))
        return name
