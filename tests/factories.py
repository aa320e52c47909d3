"""Small builders that go through the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import itertools

from lejek.activities.services import activity_log, task_create
from lejek.contacts.services import company_create, contact_create
from lejek.leads.services import lead_create
from lejek.pipeline.services import deal_create
from lejek.users.profile import profile_update

_counter = itertools.count(1)


def make_lead(actor, **values):
    n = next(_counter)
    values.setdefault("first_name", "Jan")
    values.setdefault("last_name", f"Kowalski {n}")
    values.setdefault("email", f"jan{n}@example.pl")
    return lead_create(actor=actor, **values)


def make_company(actor, **values):
    n = next(_counter)
    values.setdefault("name", f"Firma {n} Sp. z o.o.")
    return company_create(actor=actor, **values)


def make_contact(actor, **values):
    n = next(_counter)
    values.setdefault("first_name", "Anna")
    values.setdefault("last_name", f"Nowak {n}")
    values.setdefault("email", f"anna{n}@example.pl")
    return contact_create(actor=actor, **values)


def make_deal(actor, pipeline, **values):
    n = next(_counter)
    values.setdefault("title", f"Deal {n}")
    values.setdefault("pipeline", pipeline)
    return deal_create(actor=actor, **values)


def make_activity(actor, subject, kind="call", **values):
    values.setdefault("subject_line", "Intro call")
    return activity_log(actor=actor, subject=subject, kind=kind, **values)


def make_task(actor, subject, **values):
    values.setdefault("title", "Follow up")
    return task_create(actor=actor, subject=subject, **values)


def set_language(user, language: str) -> None:
    profile_update(
        actor=user,
        user=user,
        first_name=user.first_name,
        last_name=user.last_name,
        language=language,
        email_notifications=user.email_notifications,
    )
