from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.contacts"

    def ready(self):
        from apps.contacts.search import register_sqlite_fold_function

        connection_created.connect(
            register_sqlite_fold_function,
            dispatch_uid="contacts_fold_text",
        )
