"""Preparing the database on the README's run command."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.register.models import ProcessingActivity

pytestmark = pytest.mark.django_db


def _first_start(*options) -> dict:
    out = StringIO()
    call_command(
        "first_start",
        "--password",
        "Invented-pass-42",
        *options,
        stdout=out,
        stderr=StringIO(),
    )
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_first_start_creates_administrator_and_demo_data():
    state = _first_start()

    assert state["first_start"]
    assert state["administrator"]
    assert state["demo_users"]
    assert state["users"] == ["admin", "conformite", "commercial", "dpo"]
    assert state["password_valid"]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("Invented-pass-42")
    assert ProcessingActivity.objects.exists()
    assert get_user_model().objects.get(username="conformite").get_full_name()


def test_no_demo_creates_the_administrator_alone():
    state = _first_start("--no-demo")

    assert state["users"] == ["admin"]
    assert state["first_start"]
    assert not state["demo_users"]
    assert get_user_model().objects.count() == 1
    assert not ProcessingActivity.objects.exists()


def test_renamed_administrator_and_deleted_records_stay_so():
    """GIVEN a demo database whose administrator was renamed and an activity deleted,
    WHEN the run command starts again,
    THEN no administrator with the demo password and no demo record come back."""
    _first_start()
    get_user_model().objects.filter(username="admin").update(username="anais.admin")
    deleted = ProcessingActivity.objects.order_by("pk").last()
    deleted.delete()
    count = ProcessingActivity.objects.count()

    state = _first_start()

    assert not state["first_start"]
    assert not state["administrator"]
    assert state["users"] == ["conformite", "commercial", "dpo"]
    assert not get_user_model().objects.filter(username="admin").exists()
    assert ProcessingActivity.objects.count() == count


def test_first_start_changed_password():
    _first_start()
    for user in get_user_model().objects.all():
        user.set_password("Chosen-by-the-user-9")
        user.save()

    assert _first_start()["password_valid"] is False
