"""The JSON API at /api/v1/: authentication, problem responses, and each app's router."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from lejek.activities.api import activities_router, tasks_router
from lejek.api import problems
from lejek.api.auth import auth_methods
from lejek.api.people import router as people_router
from lejek.api.rendering import LejekJSONRenderer
from lejek.contacts.api import companies_router, contacts_router
from lejek.leads.api import campaigns_router, leads_router, sources_router
from lejek.pipeline.api import deals_router, pipelines_router

DESCRIPTION = """The Lejek CRM over JSON: leads, contacts, companies, deals, activities and tasks.

Authenticate with a personal API token (`Authorization: Bearer <token>`, made with
`manage.py token create --user EMAIL`) or the signed-in browser session (plus the CSRF token
for writes). Errors are RFC 9457 problem details. See docs/api.md.
"""


def _unknown_path(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return problems.problem(
        404,
        detail=_("There is no such API endpoint. They are all listed in %(url)s.")
        % {"url": reverse("api:openapi-json")},
    )


def _problem_for_bare_refusals(view):
    """Ninja answers a wrong method with a bare 405, and its root with an HTML 404;
    give both the problem shape too."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return _unknown_path(request)
        if isinstance(response, HttpResponseNotAllowed):
            return problems.problem(
                405,
                detail=_("This endpoint does not accept %(method)s.") % {"method": request.method},
                headers={"Allow": response["Allow"]},
            )
        return response

    return wrapper


class LejekAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Error responses are documented with the media type they are served as."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, reply in operation.get("responses", {}).items():
                    content = reply.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        reply["content"] = {problems.CONTENT_TYPE: content["application/json"]}
        return schema

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            pattern.callback = _problem_for_bare_refusals(pattern.callback)
        patterns.append(re_path(r"^", _unknown_path))
        return patterns, app_name, namespace


api = LejekAPI(
    title="Lejek API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=auth_methods(),
    renderer=LejekJSONRenderer(),
    # Swagger UI is served only from local static files (no CDN), which needs "ninja" installed.
    docs_url="/docs" if "ninja" in settings.INSTALLED_APPS else None,
)
problems.install(api)

api.add_router("/", people_router)
api.add_router("/leads", leads_router)
api.add_router("/leads", "lejek.scoring.api.engagements_router")
api.add_router("/leads", "lejek.leads.handoff_api.handoff_router")
api.add_router("/leads", "lejek.pipeline.conversion_api.conversion_router")
api.add_router("/sources", sources_router)
api.add_router("/campaigns", campaigns_router)
api.add_router("/companies", companies_router)
api.add_router("/contacts", contacts_router)
api.add_router("/pipelines", pipelines_router)
api.add_router("/deals", deals_router)
api.add_router("/activities", activities_router)
api.add_router("/tasks", tasks_router)
api.add_router("/analytics", "lejek.analytics.api.router")
