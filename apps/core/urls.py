from django.urls import path

from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("audit/", views.AuditEventListView.as_view(), name="audit-list"),
    path("organisation/", views.OrganisationView.as_view(), name="organisation"),
]
