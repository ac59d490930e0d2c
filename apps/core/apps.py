from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    verbose_name = _("Organisation and audit trail")

    def ready(self):
        from apps.core.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, sender=self)
