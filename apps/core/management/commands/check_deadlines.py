import json
import os
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Send the due reminders and alerts for subject-rights requests and breach "
        "notifications, flag what is overdue, and print a JSON summary. Safe to run "
        "twice: each reminder is recorded and never sent again. The links in the "
        "mails start with SITE_URL, so set it in the environment of cron jobs."
    )

    def handle(self, *args, **options):
        self._warn_without_site_url()
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

    def _warn_without_site_url(self) -> None:
        """Warn on stderr when the mails' links fall back on the default SITE_URL.

        ``scripts/dev.py`` sets SITE_URL only for the processes it starts, so a
        command run from a shell or cron mails links to the default address
        unless SITE_URL is in its environment or in ``.env``. With DEBUG on, a
        developer is assumed to know, and nothing is printed.
        """
        if os.environ.get("SITE_URL", "").strip() or settings.DEBUG:
            return
        self.stderr.write(
            self.style.WARNING(
                "Warning: SITE_URL is not set in the environment or in .env, so "
                f"the links in these mails start with {settings.SITE_URL}. Set "
                "SITE_URL to the site's public address in this command's "
                "environment (the cron job's, for example) or in .env."
            )
        )
