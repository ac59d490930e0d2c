import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

ADMINISTRATOR = "admin"
DEMO_USER = "conformite"
# The accounts that the run command names, with their role.
KNOWN_USERS = ("admin", "conformite", "commercial", "dpo")


class Command(BaseCommand):
    help = (
        "Prepare a database that has no user yet: create the administrator "
        f"'{ADMINISTRATOR}' and, unless --no-demo is given, the demo data. A "
        "database that has users is left as it is, so that deleted or renamed "
        "records never come back. Prints the database's state as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            required=True,
            help="Password of the administrator and the demo users.",
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Create the administrator only, without demo data.",
        )

    def handle(self, *args, password, no_demo, **options):
        users = get_user_model().objects
        first_start = not users.exists()
        if first_start:
            # One transaction: a start that fails half-way leaves no user, so
            # the next start prepares the database again.
            with transaction.atomic():
                users.create_superuser(
                    username=ADMINISTRATOR, email="", password=password
                )
                if not no_demo:
                    call_command("seed_demo", password=password, stdout=self.stderr)
        known = list(users.filter(username__in=KNOWN_USERS).order_by("pk"))
        state = {
            "first_start": first_start,
            "administrator": any(user.username == ADMINISTRATOR for user in known),
            "demo_users": any(user.username == DEMO_USER for user in known),
            "users": [user.username for user in known],
            "password_valid": any(user.check_password(password) for user in known),
        }
        self.stdout.write(json.dumps(state))
