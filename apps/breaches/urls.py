from django.urls import path

from . import views

app_name = "breaches"

urlpatterns = [
    path("", views.BreachListView.as_view(), name="breach-list"),
    path(
        "export/",
        views.BreachRegisterExportView.as_view(),
        name="breach-register-export",
    ),
    path("new/", views.BreachCreateView.as_view(), name="breach-create"),
    path("<int:pk>/", views.BreachDetailView.as_view(), name="breach-detail"),
    path("<int:pk>/edit/", views.BreachUpdateView.as_view(), name="breach-update"),
    path("<int:pk>/notify/", views.BreachNotifyView.as_view(), name="breach-notify"),
    path("<int:pk>/note/", views.BreachNoteView.as_view(), name="breach-note"),
    path("<int:pk>/close/", views.BreachCloseView.as_view(), name="breach-close"),
    path("<int:pk>/draft/", views.BreachDraftView.as_view(), name="breach-draft"),
    path(
        "<int:pk>/people/", views.BreachSubjectsView.as_view(), name="breach-subjects"
    ),
    path(
        "<int:pk>/people/export/",
        views.BreachSubjectsExportView.as_view(),
        name="breach-subjects-export",
    ),
    path(
        "<int:pk>/people/informed/",
        views.BreachCommunicationView.as_view(),
        name="breach-communication",
    ),
]
