from django.urls import path

from apps.retention import views

app_name = "retention"

urlpatterns = [
    path("", views.RetentionOverviewView.as_view(), name="overview"),
    path("runs/", views.RetentionRunRequestView.as_view(), name="run-request"),
    path("runs/<int:pk>/", views.RetentionRunDetailView.as_view(), name="run-detail"),
]
