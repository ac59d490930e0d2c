from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.breaches"
    verbose_name = _("Personal data breaches")
