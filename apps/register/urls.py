from django.urls import path

from apps.register import views

app_name = "register"

urlpatterns = [
    path("", views.ActivityListView.as_view(), name="activity-list"),
    path("new/", views.ActivityEditView.as_view(), name="activity-create"),
    path("<int:pk>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path("<int:pk>/edit/", views.ActivityEditView.as_view(), name="activity-edit"),
    path(
        "<int:pk>/delete/", views.ActivityDeleteView.as_view(), name="activity-delete"
    ),
    path(
        "<int:pk>/history/",
        views.ActivityHistoryView.as_view(),
        name="activity-history",
    ),
    path(
        "<int:pk>/export/<str:file_format>/",
        views.RegisterExportView.as_view(),
        name="activity-export",
    ),
    path(
        "export/<str:file_format>/",
        views.RegisterExportView.as_view(),
        name="register-export",
    ),
    path("import/", views.RegisterImportView.as_view(), name="import"),
    path("lists/", views.ReferenceTermListView.as_view(), name="reference-terms"),
    path("notice/<uuid:token>/", views.ActivityNoticeView.as_view(), name="notice"),
]
