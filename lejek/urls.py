from django.urls import include, path

from lejek.api.urls import api

urlpatterns = [
    path("", include("lejek.core.urls")),
    path("", include("lejek.users.urls")),
    path("leads/", include("lejek.leads.urls")),
    path("leads/", include("lejek.leads.queue_urls")),
    path("leads/", include("lejek.pipeline.conversion_urls")),
    path("settings/assignment/", include("lejek.leads.assignment_urls")),
    path("settings/forms/", include("lejek.leads.webform_urls")),
    path("settings/scoring/", include("lejek.scoring.urls")),
    path("f/", include("lejek.leads.public_urls")),
    path("imports/", include("lejek.imports.urls")),
    path("duplicates/", include("lejek.contacts.merge_urls")),
    path("", include("lejek.contacts.urls")),
    path("deals/", include("lejek.pipeline.urls")),
    path("deals/", include("lejek.pipeline.closing_urls")),
    path("customers/", include("lejek.pipeline.customer_urls")),
    path("deals/", include("lejek.sales.deal_urls")),
    path("", include("lejek.activities.urls")),
    path("", include("lejek.activities.email_urls")),
    path("products/", include("lejek.sales.urls")),
    path("reports/", include("lejek.analytics.dashboard_urls")),
    path("export/", include("lejek.analytics.urls")),
    path("api/v1/", api.urls),
]
