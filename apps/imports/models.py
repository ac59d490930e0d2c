"""Import jobs, their per-row results, the staging area and saved mappings."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.imports.storage import PrivateUploadStorage
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity


def phone_country_default() -> str:
    """Return ``PHONE_DEFAULT_REGION``, the country of a job that names none."""
    return settings.PHONE_DEFAULT_REGION


class Outcome(models.TextChoices):
    """The result of one data row of a file. Each row gets exactly one."""

    # The context keeps these labels apart from the same English words in
    # other apps' catalogues ("created" is a date label in contacts).
    CREATED = "created", pgettext_lazy("import outcome", "created")
    MERGED = (
        "merged",
        pgettext_lazy("import outcome", "merged into an existing contact"),
    )
    DUPLICATE = "duplicate", pgettext_lazy("import outcome", "duplicate in the file")
    SUPPRESSED = (
        "suppressed",
        pgettext_lazy("import outcome", "on the suppression list"),
    )
    REJECTED = "rejected", pgettext_lazy("import outcome", "rejected")


class ImportJob(models.Model):
    """One upload of a vendor file into a contact list.

    Status transitions:
    pending -> checking -> pending (a dry run, repeatable);
    pending -> queued -> running -> done | failed;
    failed -> queued (resume); pending | queued | failed -> cancelled (roll
    back), and running or checking -> cancelled once its worker went silent.
    A queued job is cancelled only before a worker claims it. A failed job
    has committed no contact, so resuming it or cancelling it leaves neither
    duplicates nor lost rows.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for confirmation")
        CHECKING = "checking", _("dry run in progress")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    class FileFormat(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")
        ODS = "ods", _("OpenDocument (ODS)")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    source_file = models.FileField(
        _("uploaded file"),
        upload_to="%Y/%m/",
        storage=PrivateUploadStorage(),
        blank=True,
        max_length=255,
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    file_deleted_at = models.DateTimeField(_("file deleted at"), null=True, blank=True)
    file_format = models.CharField(
        _("format"), max_length=4, choices=FileFormat.choices, default=FileFormat.CSV
    )
    encoding = models.CharField(_("encoding"), max_length=40, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    sheet_name = models.CharField(_("sheet"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    mapping = models.JSONField(
        _("column mapping"),
        default=dict,
        blank=True,
        help_text=_("Column index (as text) to Registre field."),
    )

    # The vendor row is created when the import runs (or a mapping is saved
    # for it), so a job rejected before that leaves no empty vendor behind.
    vendor = models.ForeignKey(
        Vendor,
        verbose_name=_("vendor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    vendor_name = models.CharField(_("vendor name"), max_length=200, default="")
    contact_list = models.ForeignKey(
        ContactList,
        verbose_name=_("list"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    list_name = models.CharField(_("list name"), max_length=200)
    acquisition = models.CharField(
        _("acquisition"),
        max_length=10,
        choices=ContactList.Acquisition.choices,
        default=ContactList.Acquisition.PURCHASE,
    )
    acquired_on = models.DateField(_("acquired on"))
    licence_ends_on = models.DateField(_("licence ends on"), null=True, blank=True)
    collection_method = models.TextField(_("collection method"), blank=True)
    consent_claim = models.CharField(
        _("consent claim"),
        max_length=10,
        choices=ConsentClaim.choices,
        default=ConsentClaim.UNKNOWN,
    )
    audience = models.CharField(
        _("audience"), max_length=3, choices=Audience.choices, default=Audience.B2B
    )
    processing_activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lawful_basis = models.CharField(
        _("lawful basis"),
        max_length=30,
        choices=LawfulBasis.choices,
        default=LawfulBasis.LEGITIMATE_INTERESTS,
    )
    # The services check the code against ``phone_countries.PHONE_COUNTRIES``.
    # The list has no ``choices`` here, because it follows the phonenumbers
    # release and each change would need a migration.
    phone_country = models.CharField(
        _("default country for phone numbers"),
        max_length=2,
        default=phone_country_default,
        help_text=_(
            "ISO 3166-1 alpha-2 code of the country in which a phone number "
            "without a country code is read, unless the row names a country."
        ),
    )

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    staged = models.BooleanField(_("file read into the staging area"), default=False)
    row_count = models.PositiveIntegerField(_("data rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    merged_count = models.PositiveIntegerField(_("merged"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates in file"), default=0)
    suppressed_count = models.PositiveIntegerField(_("suppressed"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    dry_run_summary = models.JSONField(_("dry-run summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    heartbeat_at = models.DateTimeField(
        _("last progress report"), null=True, blank=True
    )
    language = models.CharField(_("language of the reasons"), max_length=10, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status"], name="import_job_status_idx")]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"

    @property
    def quiet_minutes(self) -> int:
        """Whole minutes since the running job's last progress report, else 0."""
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return 0
        return int((timezone.now() - self.heartbeat_at).total_seconds() // 60)

    @property
    def counts(self) -> dict[str, int]:
        return {
            Outcome.CREATED: self.created_count,
            Outcome.MERGED: self.merged_count,
            Outcome.DUPLICATE: self.duplicate_count,
            Outcome.SUPPRESSED: self.suppressed_count,
            Outcome.REJECTED: self.rejected_count,
        }

    @property
    def is_active(self) -> bool:
        return self.status in {
            self.Status.CHECKING,
            self.Status.QUEUED,
            self.Status.RUNNING,
        }


class RowResult(models.Model):
    """The outcome of one data row: ids and a reason, no personal data."""

    # No database constraint: the merge inserts a million results at once and
    # a deferred key check per row doubles its commit time. Django's cascade
    # still deletes the results with their job.
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="row_results",
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(_("row number"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    contact_id = models.BigIntegerField(_("contact"), null=True, blank=True)

    class Meta:
        verbose_name = _("row result")
        verbose_name_plural = _("row results")
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "row_number"], name="row_result_once_per_row"
            )
        ]
        indexes = [
            # The report lists problem rows and rows with a note. Created and
            # merged rows without a note, most of a file, stay out of the index
            # so that the merge does not pay for it on each of them.
            models.Index(
                fields=["job", "row_number"],
                condition=~models.Q(outcome__in=["created", "merged"], reason=""),
                name="row_result_listed_idx",
            ),
            models.Index(fields=["contact_id"], name="row_result_contact_idx"),
        ]

    def __str__(self):
        return f"#{self.job_id}:{self.row_number} {self.outcome}"


class StagingRow(models.Model):
    """A normalised row waiting to be merged. It contains personal data.

    Rows live only while their job runs: the merge deletes them, and
    ``import_leftovers_purge`` deletes the rows of jobs that never finished.
    On PostgreSQL the table is UNLOGGED (see the migration), because a crash
    only costs re-reading the file, which the resume path does.
    ``outcome`` is empty until the row is classified; on PostgreSQL it stays
    empty for rows to create, which get ``new_contact_id`` when staged, and
    ``contact_id`` holds the existing contact that the row matched when it
    was staged.
    """

    # No database constraint: checking the key of every COPY row costs more
    # than the staging itself, and the rows are deleted with their job. No
    # index of its own either: ``staging_job_row_idx`` starts with the job.
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    row_number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)
    match_key = models.TextField(blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email_hash = models.CharField(max_length=64, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    # The hash of the address without its sub-address ("+tag"), for the
    # suppression check only; blank for an address without one.
    email_base_hash = models.CharField(max_length=64, blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    job_function = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    company_registration = models.CharField(max_length=20, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    # The space-separated hashes of the row's other identifiers, for the
    # suppression check only: a phone that the mobile replaced, the values of
    # unmapped e-mail and phone columns, and more addresses of a rejected cell.
    other_hashes = models.TextField(blank=True, default="")
    contact_id = models.BigIntegerField(null=True, blank=True)
    new_contact_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["job", "row_number"], name="staging_job_row_idx"),
            # Finds the earlier rows of a key while later chunks are staged.
            models.Index(
                fields=["job", "match_key", "row_number"], name="staging_job_key_idx"
            ),
            # The rows that matched an existing contact, which the merge reads
            # three times per range: few in most files, none in a new list.
            models.Index(
                fields=["job", "row_number"],
                condition=models.Q(contact_id__isnull=False),
                name="staging_job_matched_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.job_id}:{self.row_number}"


class VendorMapping(models.Model):
    """A column mapping saved for a vendor: header text to Registre field."""

    vendor = models.OneToOneField(
        Vendor, on_delete=models.CASCADE, related_name="import_mapping"
    )
    headers = models.JSONField(_("header to field"), default=dict)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("saved column mapping")
        verbose_name_plural = _("saved column mappings")

    def __str__(self):
        return str(self.vendor)
