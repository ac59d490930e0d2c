from django.urls import path

from apps.contacts import api
from apps.contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="contact-list"),
    path("<int:pk>/", views.ContactDetailView.as_view(), name="contact-detail"),
    path("vendors/", views.VendorListView.as_view(), name="vendor-list"),
    path("vendors/<int:pk>/", views.VendorDetailView.as_view(), name="vendor-detail"),
    path("lists/", views.ContactListListView.as_view(), name="contactlist-list"),
    path(
        "lists/<int:pk>/",
        views.ContactListDetailView.as_view(),
        name="contactlist-detail",
    ),
    path("campaigns/", views.CampaignExportListView.as_view(), name="campaign-list"),
    path(
        "campaigns/new/",
        views.CampaignExportCreateView.as_view(),
        name="campaign-create",
    ),
    path(
        "campaigns/<int:pk>/",
        views.CampaignExportDetailView.as_view(),
        name="campaign-detail",
    ),
    path(
        "campaigns/<int:pk>/file/",
        views.CampaignExportDownloadView.as_view(),
        name="campaign-download",
    ),
    path(
        "unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"
    ),
    path(
        "api/v1/suppression/check/",
        api.suppression_check,
        name="api-suppression-check",
    ),
    path("api/v1/unsubscribes/", api.unsubscribes_report, name="api-unsubscribes"),
]
