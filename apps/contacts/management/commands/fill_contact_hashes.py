import json

from django.core.management.base import BaseCommand

from apps.contacts.services import contact_hashes_fill


class Command(BaseCommand):
    help = (
        "Compute the missing suppression hashes of contacts written without "
        "Contact.save() (bulk_create, update or SQL). Prints JSON. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help="Contacts read and updated per batch (rows).",
        )

    def handle(self, *args, batch_size, **options):
        filled = contact_hashes_fill(batch_size=batch_size)
        self.stdout.write(json.dumps({"contacts_filled": filled}))
