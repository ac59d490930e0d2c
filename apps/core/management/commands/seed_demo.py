from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Fill the database with an invented organisation, processing activities, "
        "vendors, contacts, a subject request and a breach. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default="registre-demo",
            help="Password given to the demo users (conformite, commercial, dpo).",
        )

    def handle(self, *args, password, **options):
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("apps."):
                continue
            try:
                module = import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError:
                continue
            with transaction.atomic():
                module.seed_demo(password=password, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
