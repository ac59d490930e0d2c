from django.urls import path

from apps.subject_requests import views

app_name = "subject_requests"

urlpatterns = [
    path("", views.RequestListView.as_view(), name="request-list"),
    path("new/", views.RequestCreateView.as_view(), name="request-create"),
    path("<int:pk>/", views.RequestDetailView.as_view(), name="request-detail"),
    path("<int:pk>/record.pdf", views.RecordView.as_view(), name="request-record"),
    path("<int:pk>/identity/", views.IdentityView.as_view(), name="request-identity"),
    path("<int:pk>/extend/", views.ExtendView.as_view(), name="request-extend"),
    path("<int:pk>/search/", views.SearchView.as_view(), name="request-search"),
    path("<int:pk>/link/", views.LinkView.as_view(), name="request-link"),
    path(
        "<int:pk>/unlink/<int:contact_id>/",
        views.UnlinkView.as_view(),
        name="request-unlink",
    ),
    path(
        "<int:pk>/access-package/",
        views.PackageView.as_view(),
        name="request-access-package",
    ),
    path(
        "<int:pk>/portability/",
        views.PackageView.as_view(portability=True),
        name="request-portability",
    ),
    path(
        "<int:pk>/rectify/<int:contact_id>/",
        views.RectifyView.as_view(),
        name="request-rectify",
    ),
    path(
        "<int:pk>/rectify/<int:contact_id>/not-needed/",
        views.RectifyNotNeededView.as_view(),
        name="request-rectify-not-needed",
    ),
    path("<int:pk>/restrict/", views.RestrictView.as_view(), name="request-restrict"),
    path(
        "<int:pk>/lift-restriction/",
        views.LiftRestrictionView.as_view(),
        name="request-lift-restriction",
    ),
    path("<int:pk>/object/", views.ObjectView.as_view(), name="request-object"),
    path("<int:pk>/erase/", views.EraseView.as_view(), name="request-erase"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="request-close"),
    path("<int:pk>/refuse/", views.RefuseView.as_view(), name="request-refuse"),
]
