"""Step labels and not-applied reasons, worded in the reader's language."""

import html
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.register.models import RetentionRule
from apps.retention.models import RetentionRun
from apps.retention.selectors import run_steps_by_activity
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres

OVERVIEW = reverse("retention:overview")
HOURS = settings.IMPORT_FILE_RETENTION_HOURS

ENGLISH = [
    "Rented lists whose licence has ended",
    "Coordonnées des prospects: 3 years from collection or last contact from the "
    "person, whichever is later, then delete",
    "Coordonnées des prospects: 3 years from collection or last contact from the "
    "person, whichever is later, then archive (intermediate storage)",
    "Coordonnées des prospects: 3 years from end of the contract, then delete",
    "Coordonnées des prospects: 10000 years from collection or last contact from "
    "the person, whichever is later, then delete",
    "Prospects without an applicable rule: 3 years from collection or last "
    "contact from the person, then delete",
    f"Import files and staging rows older than {HOURS} hours",
    "Archiving (intermediate storage) happens outside Registre: the contacts are "
    "counted here but not changed.",
    "Contacts do not record the start event “end of the contract”; change the "
    "rule to start from collection or from the last contact.",
    "The period of this rule (10000 years) reaches back before the year 1, so "
    "nothing is due under it. Correct the duration in the register.",
]

FRENCH = [
    "Fichiers loués dont la licence a pris fin",
    "Coordonnées des prospects : 3 ans à compter de la collecte ou du dernier "
    "contact émanant de la personne, au plus tard des deux, puis suppression",
    "Coordonnées des prospects : 3 ans à compter de la collecte ou du dernier "
    "contact émanant de la personne, au plus tard des deux, puis archivage "
    "intermédiaire",
    "Coordonnées des prospects : 3 ans à compter de la fin du contrat, puis "
    "suppression",
    "Coordonnées des prospects : 10000 ans à compter de la collecte ou du dernier "
    "contact émanant de la personne, au plus tard des deux, puis suppression",
    "Prospects sans règle applicable : 3 ans à compter de la collecte ou du "
    "dernier contact émanant de la personne, puis suppression",
    f"Fichiers importés et lignes en attente de plus de {HOURS} heures",
    "L’archivage (archivage intermédiaire) se fait hors de Registre : les "
    "contacts sont comptés ici mais pas modifiés.",
    "Les contacts n’enregistrent pas l’événement de départ « de la fin du "
    "contrat » ; faites partir la règle de la collecte ou du dernier contact.",
    "La durée de cette règle (10000 ans) remonte avant l'an 1 : rien n'est échu "
    "selon elle. Corrigez la durée dans le registre.",
]

# Keys of a stored step that word it. Audit events leave them out.
WORDING_KEYS = {
    "label",
    "label_code",
    "label_params",
    "not_applied_reason",
    "not_applied_code",
    "not_applied_params",
}


@pytest.fixture
def rules(contact_rule):
    """A rule of each wording: applied, archived, unrecordable and unreachable."""
    activity = contact_rule.activity
    return {
        "delete": contact_rule,
        "archive": RuleFactory(activity=activity, action=RetentionRule.Action.ARCHIVE),
        "end_of_contract": RuleFactory(
            activity=activity, start_event=RetentionRule.StartEvent.END_OF_CONTRACT
        ),
        "unreachable": RuleFactory(activity=activity, duration=10000),
    }


@pytest.fixture
def due_contact(rules):
    return ContactFactory(
        processing_activity=rules["delete"].activity,
        collected_at=timezone.now() - timedelta(days=4 * 366),
    )


def _run(*, dry_run: bool = False) -> RetentionRun:
    run, _ = retention_apply(trigger="command", dry_run=dry_run)
    assert run.status == RetentionRun.Status.SUCCEEDED, run.error
    return run


def _step(run, key):
    return next(step for step in run.steps if step["key"] == key)


def _page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _switch_language(client, language: str) -> None:
    """Choose the language with the form of every page, which sets the cookie."""
    response = client.post(reverse("set_language"), {"language": language})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language


def test_french_run_reads_in_english(client_for, dpo, rules, due_contact):
    run = _run()
    assert _step(run, "rented-lists")["label"] == FRENCH[0]

    response = client_for(dpo).get(
        reverse("retention:run-detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = _page_text(response)
    for sentence in ENGLISH:
        assert sentence in page
    for sentence in FRENCH:
        assert sentence not in page


def test_french_runs_read_in_english_after_switch(
    client_for, compliance_officer, rules, due_contact
):
    _run(dry_run=True)
    _run()
    client = client_for(compliance_officer)
    _switch_language(client, "en")

    page = _page_text(client.get(OVERVIEW))

    for sentence in ENGLISH:
        assert page.count(sentence) == 2, sentence
    for sentence in FRENCH:
        assert sentence not in page


def test_english_run_reads_in_french_after_switch(client_for, dpo, rules, due_contact):
    with override_settings(LANGUAGE_CODE="en"):
        run = _run()
    assert _step(run, "rented-lists")["label"] == ENGLISH[0]
    client = client_for(dpo)
    _switch_language(client, "fr")

    # The language cookie wins over the browser's Accept-Language header.
    response = client.get(
        reverse("retention:run-detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = _page_text(response)
    for sentence in FRENCH:
        assert sentence in page
    for sentence in ENGLISH:
        assert sentence not in page


def test_english_run_reads_in_french_by_header(client_for, dpo, rules):
    with override_settings(LANGUAGE_CODE="en"):
        run = _run()

    response = client_for(dpo).get(
        reverse("retention:run-detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    page = _page_text(response)
    for sentence in FRENCH:
        assert sentence in page


def test_old_run_shows_stored_sentences(client_for, dpo):
    label = "Coordonnées : 3 ans à compter de la collecte, puis archivage"
    reason = "L’archivage se fait hors de Registre."
    run = RetentionRun.objects.create(
        trigger="command",
        as_of=AS_OF,
        status="succeeded",
        steps=[
            {
                "key": "contacts:rule:7",
                "kind": "contacts",
                "action": "archive",
                "label": label,
                "activity_id": 3,
                "activity_reference": "ACT-003",
                "rule_id": 7,
                "cutoff": None,
                "ended_list_ids": [],
                "not_applied_reason": reason,
                "status": "not_applied",
                "removed": 0,
            }
        ],
    )

    response = client_for(dpo).get(
        reverse("retention:run-detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = _page_text(response)
    assert label in page
    assert reason in page


def test_step_stores_codes_without_personal_data(rules, due_contact):
    run = _run()

    archive = _step(run, f"contacts:rule:{rules['archive'].pk}")
    assert archive["label_code"] == "rule"
    assert archive["label_params"] == {
        "data_category": "Coordonnées des prospects",
        "duration": 3,
        "unit": "years",
        "start_event": "collection_or_last_contact",
        "start_event_other": "",
        "action": "archive",
    }
    assert archive["not_applied_code"] == "archive_outside_registre"
    contract = _step(run, f"contacts:rule:{rules['end_of_contract'].pk}")
    assert contract["not_applied_code"] == "start_event_not_recorded"
    assert contract["not_applied_params"] == {"start_event": "end_of_contract"}
    unreachable = _step(run, f"contacts:rule:{rules['unreachable'].pk}")
    assert unreachable["not_applied_code"] == "period_before_year_one"
    assert unreachable["not_applied_params"] == {"duration": 10000, "unit": "years"}
    leftovers = _step(run, "import-leftovers")
    assert leftovers["label_code"] == "import_leftovers"
    assert leftovers["label_params"] == {"hours": HOURS}
    stored = json.dumps(run.steps, ensure_ascii=False)
    assert due_contact.email not in stored
    assert due_contact.last_name not in stored
    assert due_contact.phone not in stored


def test_step_audit_leaves_wording_out(rules, due_contact):
    run = _run()

    events = AuditEvent.objects.filter(action="retention.contacts.applied")

    contact_steps = [step for step in run.steps if step["kind"] == "contacts"]
    assert events.count() == len(contact_steps)
    for event in events:
        assert not WORDING_KEYS & set(event.details)
    deleted = events.get(
        target_type="register.retentionrule", target_id=str(rules["delete"].pk)
    )
    assert deleted.details["deleted"] == 1


@pytest.mark.django_db
def test_step_groups_follow_run_order():
    def step(key, activity_id=None):
        return {"key": key, "kind": "contacts", "activity_id": activity_id}

    run = RetentionRun(
        steps=[
            step("rented_lists"),
            step("contacts:rule:1", 1),
            step("contacts:rule:2", 1),
            step("contacts:rule:3", 2),
            step("contacts:default"),
            step("purge:rule:4", 1),
            step("imports:leftovers"),
        ]
    )

    groups = run_steps_by_activity(run, for_page=False)

    assert [(g["activity_id"], [s["key"] for s in g["steps"]]) for g in groups] == [
        (None, ["rented_lists"]),
        (1, ["contacts:rule:1", "contacts:rule:2"]),
        (2, ["contacts:rule:3"]),
        (None, ["contacts:default"]),
        (1, ["purge:rule:4"]),
        (None, ["imports:leftovers"]),
    ]
