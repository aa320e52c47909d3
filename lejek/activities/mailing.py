"""Sending an e-mail about a record, and logging it on the record's timeline.

The e-mail goes out first, and only a delivered e-mail is logged: holding a database
transaction open while a mail server answers would block every other write on SQLite.
Everything that could refuse the log (permissions, addresses, lengths) is checked before
sending, so a delivered e-mail is always logged.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lejek.activities.models import Activity, SentEmail
from lejek.activities.services import subject_kwargs
from lejek.core.events import record_event
from lejek.core.records import ensure_editable

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
TITLE_MAX_LENGTH = 200

FileTuple = tuple[str, bytes, str]


def max_attachment_bytes() -> int:
    return settings.LEJEK_MAX_ATTACHMENT_MB * 1024 * 1024


def clean_addresses(addresses: Sequence[str] | None, field: str) -> list[str]:
    """Stripped, de-duplicated addresses; a ValidationError on `field` names each bad one."""
    cleaned: list[str] = []
    bad: list[str] = []
    for raw in addresses or []:
        address = (raw or "").strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
            continue
        if address.lower() not in {a.lower() for a in cleaned}:
            cleaned.append(address)
    if bad:
        raise ValidationError(
            {
                field: ngettext(
                    "This is not a valid e-mail address: %(addresses)s.",
                    "These are not valid e-mail addresses: %(addresses)s.",
                    len(bad),
                )
                % {"addresses": ", ".join(bad)}
            }
        )
    return cleaned


def check_message(
    *, to: list[str], cc: list[str], title: str, attachments: Sequence[FileTuple]
) -> None:
    errors: dict[str, str] = {}
    if not to:
        errors["to"] = _("Add at least one recipient.")
    elif len(to) + len(cc) > MAX_RECIPIENTS:
        errors["to"] = _("An e-mail can go to at most %(n)s people.") % {"n": MAX_RECIPIENTS}
    if not title.strip():
        errors["title"] = _("Write a subject line.")
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = _("Keep the subject line under %(n)s characters.") % {
            "n": TITLE_MAX_LENGTH
        }
    elif "\n" in title or "\r" in title:
        errors["title"] = _("The subject line must be a single line.")
    total = sum(len(content) for _name, content, _type in attachments)
    if total > max_attachment_bytes():
        errors["attachments"] = _(
            "The attachments together are larger than %(mb)s MB; send fewer or smaller files."
        ) % {"mb": settings.LEJEK_MAX_ATTACHMENT_MB}
    if errors:
        raise ValidationError(errors)


def build_message(
    *, actor, to: list[str], cc: list[str], title: str, body: str, attachments
) -> EmailMessage:
    # Replies go to the person who wrote the e-mail, not to Lejek's sending address.
    reply_to = [actor.email] if actor is not None and actor.email else None
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or None
    return EmailMessage(
        subject=title.strip(),
        body=body,
        to=to,
        cc=cc,
        reply_to=reply_to,
        attachments=list(attachments),
        headers={"Message-ID": make_msgid(domain=domain)},
    )


def deliver(message: EmailMessage) -> None:
    """Hand the message to the mail server; every failure becomes a ValidationError."""
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise ValidationError(
            {
                "to": _("The mail server refused these addresses: %(addresses)s.")
                % {"addresses": refused}
            }
        ) from exc
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        # Operators need the reason; the person sending needs to know nothing went out.
        logger.warning("E-mail %r could not be sent: %s", message.subject, exc)
        raise ValidationError(
            _(
                "The e-mail was not sent: the mail server could not be reached or refused it. "
                "Nothing was logged; try again in a moment, or ask an admin to check the "
                "e-mail settings."
            )
        ) from exc


def log_email(
    *, actor, subject, to, cc, title: str, body: str, message: EmailMessage, names: list[str]
) -> Activity:
    activity = Activity(
        kind=Activity.Kind.EMAIL,
        subject_line=title.strip(),
        body=body,
        author=actor,
        **subject_kwargs(subject),
    )
    activity.full_clean()
    activity.save()
    SentEmail.objects.create(
        activity=activity,
        to=to,
        cc=cc,
        attachment_names=names,
        message_id=message.extra_headers.get("Message-ID", ""),
    )
    record_event(
        actor=actor,
        verb="email.sent",
        obj=subject,
        after={
            "activity": activity.pk,
            "title": activity.subject_line,
            "to": to,
            "cc": cc,
            "attachments": names,
        },
    )
    return activity


def send_and_log(
    *,
    actor,
    subject,
    to: Sequence[str],
    title: str,
    body: str,
    attachments: Sequence[FileTuple] = (),
    cc: Sequence[str] | None = None,
    keep_files: bool = False,
) -> Activity:
    """The work behind `email_send`; with `keep_files` the attachments are also stored as
    Attachments of the record, linked to the logged e-mail (what the composer does)."""
    ensure_editable(actor, subject)
    subject_kwargs(subject)  # refuses records that have no timeline
    errors: dict = {}
    try:
        to = clean_addresses(to, "to")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        cc = clean_addresses(cc, "cc")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    check_message(to=to, cc=cc, title=title, attachments=attachments)
    message = build_message(
        actor=actor, to=to, cc=cc, title=title, body=body, attachments=attachments
    )
    deliver(message)
    names = [name for name, _content, _type in attachments]
    with transaction.atomic():
        activity = log_email(
            actor=actor,
            subject=subject,
            to=to,
            cc=cc,
            title=title,
            body=body,
            message=message,
            names=names,
        )
        if keep_files:
            from lejek.activities.attachments import attachment_store

            for name, content, content_type in attachments:
                attachment_store(
                    actor=actor,
                    subject=subject,
                    name=name,
                    content=content,
                    content_type=content_type,
                    activity=activity,
                )
    return activity


def email_send(
    *,
    actor,
    subject,
    to: list[str],
    title: str,
    body: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
    cc: list[str] | None = None,
) -> Activity:
    """Send an e-mail about `subject` (a lead, contact, company or deal) and log it.

    Checks that the actor may edit the record and that every address is valid
    (ValidationError otherwise), sends through the default mailer, then logs, in one
    transaction, an Activity of kind "email" (with its recipients and attachment names)
    and an Event "email.sent" on the record. A delivery failure raises a ValidationError
    and logs nothing.
    """
    return send_and_log(
        actor=actor,
        subject=subject,
        to=to,
        title=title,
        body=body,
        attachments=attachments or (),
        cc=cc,
    )
