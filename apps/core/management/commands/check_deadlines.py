import json
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Send the due reminders and alerts for subject-rights requests and breach "
        "notifications, flag what is overdue, and print a JSON summary. Safe to run "
        "twice: each reminder is recorded and never sent again."
    )

    def handle(self, *args, **options):
        summary = {}
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("apps."):
                continue
            try:
                module = import_module(f"{app_config.name}.deadlines")
            except ModuleNotFoundError:
                continue
            summary[app_config.label] = module.check_deadlines()
        self.stdout.write(json.dumps(summary, indent=2, default=str))
