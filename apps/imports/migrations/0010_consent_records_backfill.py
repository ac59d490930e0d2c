"""Record the vendor's opt-in consent of contacts imported before imports did.

An import on consent with an opt-in claim now records a granted e-mail
consent for each contact it creates or merges. Contacts that such an import
brought earlier have none, so the contactable rule rejects them. This adds one
record per contact, from the provenance row of the earliest such import, with
the same evidence, unless the contact already has an e-mail consent record.
"""

from django.db import migrations

EVIDENCE = (
    "Opt-in consent stated by the vendor “{vendor}” for the list “{list}”, "
    "import job #{job}, row {row}."
)


def consent_records_backfill(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    Provenance = apps.get_model("contacts", "Provenance")
    ConsentRecord = apps.get_model("contacts", "ConsentRecord")

    jobs = ImportJob.objects.filter(
        lawful_basis="consent", consent_claim="opt_in", status="done"
    ).order_by("pk")
    recorded = set(
        ConsentRecord.objects.filter(channel="email").values_list(
            "contact_id", flat=True
        )
    )
    for job in jobs.iterator():
        records = []
        provenances = Provenance.objects.filter(import_job_id=job.pk).select_related(
            "contact_list__vendor"
        )
        for provenance in provenances.order_by("row_number").iterator():
            if provenance.contact_id in recorded:
                continue
            recorded.add(provenance.contact_id)
            contact_list = provenance.contact_list
            records.append(
                ConsentRecord(
                    contact_id=provenance.contact_id,
                    channel="email",
                    state="granted",
                    recorded_at=provenance.imported_at,
                    evidence=EVIDENCE.format(
                        vendor=contact_list.vendor.name,
                        list=contact_list.name,
                        job=job.pk,
                        row=provenance.row_number,
                    ),
                )
            )
        ConsentRecord.objects.bulk_create(records, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0009_staging_matched_index"),
        ("contacts", "0014_campaign_export_language_choices"),
    ]

    operations = [
        migrations.RunPython(consent_records_backfill, migrations.RunPython.noop),
    ]
