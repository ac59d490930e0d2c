#!/usr/bin/env python3
"""Update and compile the French catalogue of one app (or of the project).

    .venv/bin/python scripts/messages.py register      # apps/register/locale
    .venv/bin/python scripts/messages.py               # locale/ (core, templates)

Django is set up from the project folder before moving into the app folder:
Celery's Django fixup puts the working folder first on ``sys.path``, where an
app's ``apps.py`` or ``selectors.py`` would hide the real packages.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
OTHER_APPS = [
    "register",
    "contacts",
    "imports",
    "subject_requests",
    "breaches",
    "retention",
]


def main() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    app = sys.argv[1] if len(sys.argv) > 1 else ""
    if app:
        if not (BASE_DIR / "apps" / app).is_dir():
            sys.exit(f"No app named {app!r} in apps/.")
        os.chdir(BASE_DIR / "apps" / app)
        (Path.cwd() / "locale").mkdir(exist_ok=True)
        call_command("makemessages", locale=["fr"])
    else:
        ignored = [".venv/*", "data/*", "tests/*", "bench/*", "scripts/*"]
        ignored += [f"apps/{name}/*" for name in OTHER_APPS]
        call_command("makemessages", locale=["fr", "en"], ignore_patterns=ignored)
    call_command("compilemessages", locale=["fr"], ignore_patterns=[".venv/*"])


if __name__ == "__main__":
    main()
