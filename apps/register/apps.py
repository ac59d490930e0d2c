from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.register"
    verbose_name = _("Record of processing activities")
