"""Row reasons name the column unambiguously and reject formula addresses."""

import pytest

from apps.imports.models import ImportJob
from tests.imports.conftest import import_file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_note_names_shared_header_with_position(upload_root, write_file):
    path = write_file(
        "doublons.csv",
        "Email;Téléphone;Nom;Téléphone\njean.dupont@example.com;;Dupont;12\n",
    )

    job = import_file(path)

    assert job.status == ImportJob.Status.DONE
    reason = job.row_results.get(row_number=2).reason
    assert "Téléphone (column 4): not a valid phone number" in reason


def test_formula_email_row_is_rejected(upload_root, write_file):
    path = write_file(
        "formule.csv",
        "Courriel;Nom\n=cmd@example.com;Dupont\njean.dupont@example.com;Dupont\n",
    )

    job = import_file(path)

    assert job.counts["rejected"] == 1
    assert job.counts["created"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert "Courriel: starts with “=”" in reason
    assert "formula" in reason


def test_row_with_cell_beyond_header_is_noted(upload_root, write_file):
    path = write_file(
        "decale.csv",
        "Email;Nom;Ville\n"
        "jean.dupont@example.com;Dupont;Lyon\n"
        "marie.martin@example.com;Martin;Saint-Denis; La Réunion\n",
    )

    job = import_file(path)

    assert job.counts["created"] == 2
    assert job.row_results.get(row_number=2).reason == ""
    reason = job.row_results.get(row_number=3).reason
    assert "the row has 1 value after the header's 3 columns" in reason
