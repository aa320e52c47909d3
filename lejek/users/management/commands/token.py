"""`manage.py token create --user EMAIL [--name NAME]`: a personal API token, printed once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lejek.users.models import User
from lejek.users.services import token_create


class Command(BaseCommand):
    help = "Manage personal API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="Create a token for a user and print it (it is shown only this once).",
            called_from_command_line=getattr(self, "_called_from_command_line", False),
        )
        create.add_argument("--user", required=True, metavar="EMAIL", help="The user's e-mail.")
        create.add_argument("--name", default="API", help="A label to recognise the token by.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            self.create(email=options["user"], name=options["name"])

    def create(self, *, email: str, name: str) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the e-mail {email!r}.")
        if not user.is_active:
            raise CommandError(f"The user {email!r} is deactivated; a token would not work.")
        # Made at the server's console, not by a signed-in person: the Event has no actor.
        _token, raw = token_create(actor=None, user=user, name=name)
        self.stdout.write(raw)
