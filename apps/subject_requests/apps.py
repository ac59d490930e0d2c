from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectRequestsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.subject_requests"
    verbose_name = _("Subject-rights requests")
