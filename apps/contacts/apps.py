from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from apps.contacts.search import register_sqlite_fold_function

        connection_created.connect(
            register_sqlite_fold_function,
            dispatch_uid="contacts_fold_text",
        )
