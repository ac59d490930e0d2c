from django.apps import AppConfig


class BreachesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.breaches"
