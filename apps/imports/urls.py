from django.urls import path

from apps.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.JobListView.as_view(), name="job-list"),
    path("new/", views.JobCreateView.as_view(), name="job-create"),
    path("<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("<int:pk>/progress/", views.JobProgressView.as_view(), name="job-progress"),
    path(
        "<int:pk>/mapping/",
        views.JobMappingView.as_view(),
        name="job-mapping",
    ),
    path(
        "<int:pk>/sheet/", views.JobActionView.as_view(action="sheet"), name="job-sheet"
    ),
    path(
        "<int:pk>/check/", views.JobActionView.as_view(action="check"), name="job-check"
    ),
    path(
        "<int:pk>/start/", views.JobActionView.as_view(action="start"), name="job-start"
    ),
    path(
        "<int:pk>/resume/",
        views.JobActionView.as_view(action="resume"),
        name="job-resume",
    ),
    path(
        "<int:pk>/cancel/",
        views.JobActionView.as_view(action="cancel"),
        name="job-cancel",
    ),
    path(
        "<int:pk>/rejected.<str:file_format>",
        views.JobRejectedDownloadView.as_view(),
        name="job-rejected",
    ),
    path("<int:pk>/notes.csv", views.JobNotesDownloadView.as_view(), name="job-notes"),
]
