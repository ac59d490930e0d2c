from django.apps import AppConfig


class SubjectRequestsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.subject_requests"
