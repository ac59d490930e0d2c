import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.contacts.search import EmailLocalPart
from apps.contacts.search import FoldedText
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import identifier_hash
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity


class ConsentClaim(models.TextChoices):
    OPT_IN = "opt_in", _("opt-in (prior consent)")
    OPT_OUT = "opt_out", _("opt-out (informed, able to object)")
    UNKNOWN = "unknown", _("not stated")


class Audience(models.TextChoices):
    B2B = "b2b", _("B2B (professionals)")
    B2C = "b2c", _("B2C (consumers)")


class Vendor(models.Model):
    """A company that sells or rents contact lists."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    contact_name = models.CharField(_("vendor contact"), max_length=200, blank=True)
    contact_email = models.EmailField(_("vendor contact e-mail"), blank=True)
    contract_reference = models.CharField(
        _("contract reference"), max_length=100, blank=True
    )
    dpa_signed_on = models.DateField(
        _("data-processing agreement signed on"), null=True, blank=True
    )
    dpa_reference = models.CharField(
        _("data-processing agreement reference"), max_length=100, blank=True
    )
    collection_method = models.TextField(
        _("collection method stated by the vendor"), blank=True
    )
    consent_claim = models.CharField(
        _("consent claim"),
        max_length=10,
        choices=ConsentClaim.choices,
        default=ConsentClaim.UNKNOWN,
    )
    objection_instructions = models.TextField(
        _("how people can object with the vendor"), blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ContactList(models.Model):
    """A purchased or rented file of contacts from one vendor."""

    class Acquisition(models.TextChoices):
        PURCHASE = "purchase", _("purchase")
        RENTAL = "rental", _("rental")

    vendor = models.ForeignKey(
        Vendor, verbose_name=_("vendor"), on_delete=models.PROTECT, related_name="lists"
    )
    name = models.CharField(_("name"), max_length=200)
    acquisition = models.CharField(
        _("acquisition"),
        max_length=10,
        choices=Acquisition.choices,
        default=Acquisition.PURCHASE,
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
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    row_count = models.PositiveIntegerField(_("data rows"), default=0)
    created_count = models.PositiveIntegerField(_("contacts created"), default=0)
    merged_count = models.PositiveIntegerField(_("contacts merged"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact list")
        verbose_name_plural = _("contact lists")
        ordering = ["-acquired_on", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "name"], name="contact_list_unique_per_vendor"
            ),
            models.CheckConstraint(
                condition=~models.Q(acquisition="rental")
                | models.Q(licence_ends_on__isnull=False),
                name="contact_list_rental_has_licence_end",
            ),
        ]

    def __str__(self):
        return f"{self.vendor} · {self.name}"


# Every status but "anonymised". The name and company indexes hold contacts
# with these statuses only, so that anonymising a contact writes no entry in
# them. The condition lists the statuses rather than saying ``<> 'anonymised'``
# like the trigram index does: the fragment search excludes anonymised
# contacts to reach the trigram index, and with the same condition PostgreSQL
# could scan a whole name index in its place.
STATUSES_NOT_ANONYMISED = ("active", "restricted", "objected", "unsubscribed")


class Contact(models.Model):
    """A prospect. ``email`` and ``phone`` hold the normalised forms.

    Status transitions: active <-> restricted (Art. 18, lifted by the DPO);
    active or restricted -> unsubscribed; active, restricted or unsubscribed
    -> objected (final); any -> anonymised (final, by the retention job, which
    also blanks every identifying field).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        RESTRICTED = "restricted", _("restricted")
        OBJECTED = "objected", _("objected")
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
        ANONYMISED = "anonymised", _("anonymised")

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    job_function = models.CharField(_("job function"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    company_domain = models.CharField(_("company domain"), max_length=200, blank=True)
    company_registration = models.CharField(_("SIRET"), max_length=20, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    audience = models.CharField(
        _("audience"), max_length=3, choices=Audience.choices, default=Audience.B2B
    )
    # No database constraint: PostgreSQL checks one for each new row, which
    # cost about 5 s per million imported contacts on the benchmark machine.
    # An import writes its job's activity, and the job's own constraint keeps
    # that activity from being deleted; Django's PROTECT refuses to delete an
    # activity that contacts refer to, and no code deletes activities in SQL.
    processing_activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        db_constraint=False,
    )
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=30, choices=LawfulBasis.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.ACTIVE
    )
    collected_at = models.DateTimeField(_("collected at"))
    last_contact_at = models.DateTimeField(
        pgettext_lazy("contact field", "last contact from the person"),
        null=True,
        blank=True,
    )
    art14_notice_sent_at = models.DateTimeField(
        _("Art. 14 notice sent at"), null=True, blank=True
    )
    last_messaged_at = models.DateTimeField(
        _("last campaign message sent at"),
        null=True,
        blank=True,
        help_text=_(
            "Set by a campaign export when the user asks for it. It does not "
            "extend the retention period, which runs from the last contact "
            "coming from the person."
        ),
    )
    # Keyed hashes of ``email`` and ``phone`` (``apps.core.identifiers``), so that
    # the suppression check probes the suppression list's index. They have no
    # index of their own: lookups of contacts go through ``email`` and
    # ``phone``, and two more indexes in random order would slow every import
    # (by about 9 s per million rows on the benchmark machine). ``save()``
    # fills them; code that writes rows with ``bulk_create`` or ``update``
    # calls ``apps.contacts.services.contact_hashes_fill`` afterwards. A
    # contact whose hash is missing is treated as suppressed until the hash
    # is filled.
    email_hash = models.CharField(_("e-mail hash"), max_length=64, blank=True)
    phone_hash = models.CharField(_("phone hash"), max_length=64, blank=True)
    # "first last company local-part" folded to lower case without accents
    # (``apps.contacts.search``) and computed by the database, so rows written
    # by ``bulk_create`` or COPY get it too. PostgreSQL indexes it with a
    # pg_trgm GIN index for fragment search.
    search_text = models.GeneratedField(
        expression=FoldedText(
            Concat(
                "first_name",
                models.Value(" "),
                "last_name",
                models.Value(" "),
                "company",
                models.Value(" "),
                EmailLocalPart("email"),
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        # Plain B-tree indexes in Meta rather than ``db_index=True``, which on
        # PostgreSQL adds a second ``varchar_pattern_ops`` index to each
        # CharField for LIKE prefix searches that no query here runs.
        # Anonymising a contact writes an entry in the primary key and the
        # activity index only: the identifier indexes leave out empty values,
        # which no lookup seeks, and the name and company indexes leave out
        # anonymised contacts. A query that compares the identifiers with
        # another table's, or with more than a hundred values, must add
        # ``<> ''`` for PostgreSQL to use their indexes. A query that sorts by
        # name or company must filter on ``STATUSES_NOT_ANONYMISED``.
        indexes = [
            models.Index(
                fields=["email"], condition=~Q(email=""), name="contact_email_idx"
            ),
            models.Index(
                fields=["phone"], condition=~Q(phone=""), name="contact_phone_idx"
            ),
            # Keyset pagination seeks on (sort key, id); this one also serves
            # lookups on the last name.
            models.Index(
                fields=["last_name", "id"],
                condition=Q(status__in=STATUSES_NOT_ANONYMISED),
                name="contact_last_name_id_idx",
            ),
            # Also serves lookups on company alone.
            models.Index(
                fields=["company", "id"],
                condition=Q(status__in=STATUSES_NOT_ANONYMISED),
                name="contact_company_id_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.pk}"

    def save(self, *args, **kwargs):
        self.email_hash = identifier_hash(self.email) if self.email else ""
        self.phone_hash = identifier_hash(self.phone) if self.phone else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            update_fields = set(update_fields)
            if "email" in update_fields:
                update_fields.add("email_hash")
            if "phone" in update_fields:
                update_fields.add("phone_hash")
            kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)

    def clean(self):
        """Store the e-mail, phone and country in the forms that lookups use.

        Forms call it, the admin's included. Without it, an address typed as
        ``Jean.Dupont@Example.com`` would escape the unsubscribes and
        suppression checks that match on ``jean.dupont@example.com``.
        """
        super().clean()
        errors = {}
        self.email, self.phone = self.email.strip(), self.phone.strip()
        self.country = self.country.strip().upper()
        if self.country and self.country not in phonenumbers.SUPPORTED_REGIONS:
            errors["country"] = _(
                "%(value)r is not a country code: use two letters such as FR."
            ) % {"value": self.country}
            self.country = ""
        try:
            self.email = normalize_email(self.email) if self.email else ""
        except InvalidIdentifier:
            errors["email"] = _(
                "Enter a valid e-mail address, such as jean.dupont@company.com."
            )
        try:
            self.phone = _phone_normalized(self.phone, self.country)
        except InvalidIdentifier:
            errors["phone"] = _(
                "“%(value)s” is not a valid phone number in %(region)s: write it "
                "as 06 12 34 56 78, or with its country code, such as "
                "+49 30 1234567."
            ) % {
                "value": self.phone,
                "region": self.country or settings.PHONE_DEFAULT_REGION,
            }
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def _phone_normalized(phone: str, country: str) -> str:
    """Return ``phone`` in E.164, read in the contact's country, else the default.

    Imports apply the same rule, so a number keeps the form its import gave it.
    """
    if not phone:
        return ""
    if country:
        try:
            return normalize_phone(phone, country)
        except InvalidIdentifier:
            pass
    return normalize_phone(phone)


class Provenance(models.Model):
    """One appearance of a contact in a list: a contact can come from several."""

    # ``provenance_once_per_list`` starts with the contact, so it serves the
    # lookups by contact that a separate index would.
    # No database constraint: PostgreSQL checks one by locking the contact's
    # row, which for a million imported rows costs twice as much as inserting
    # them (8 s against 3.4 s on the benchmark machine). Every deletion of
    # contacts goes through ``apps.contacts.erasure.contacts_erase`` or
    # Django's collector, and both delete these rows with the contact.
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="provenances",
        db_index=False,
        db_constraint=False,
    )
    # No database constraint either: every row of an import names the same
    # list, and the deferred check of each one cost about 4 s per million rows
    # at commit. Django's PROTECT still refuses to delete a list that has
    # provenance, and no code deletes lists in SQL.
    contact_list = models.ForeignKey(
        ContactList,
        verbose_name=_("list"),
        on_delete=models.PROTECT,
        related_name="provenances",
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(_("row number"), null=True, blank=True)
    import_job_id = models.BigIntegerField(_("import job"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("provenance")
        verbose_name_plural = _("provenances")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "contact_list"], name="provenance_once_per_list"
            )
        ]

    def __str__(self):
        return f"#{self.contact_id} · {self.contact_list_id}"


class ConsentRecord(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")
        SMS = "sms", _("SMS")
        POST = "post", _("post")

    class State(models.TextChoices):
        GRANTED = "granted", _("granted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    recorded_at = models.DateTimeField(_("when"))
    evidence = models.TextField(_("evidence"), blank=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.channel}: {self.state}"


class SuppressionEntry(models.Model):
    """A person who must never be contacted again, kept as a keyed hash only.

    ``identifier_hash`` is the HMAC-SHA256 of the normalised e-mail or phone
    (``apps.core.identifiers``); the clear identifier is never stored.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
        OBJECTED = "objected", _("objected")
        ERASED = "erased", _("erased")
        # A person's address that a rectification replaced: a later list that
        # still gives it would otherwise bring the person back under it.
        RECTIFIED = "rectified", _("replaced by a rectification")

    identifier_hash = models.CharField(_("identifier hash"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=15, choices=Reason.choices)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("suppression entry")
        verbose_name_plural = _("suppression list")

    def __str__(self):
        return f"{self.kind} · {self.identifier_hash[:12]}…"


class CampaignExport(models.Model):
    """A campaign file built from a segment and kept in ``CAMPAIGN_EXPORT_ROOT``.

    ``CampaignExportContact`` rows list the contacts that the file holds, so that
    erasing a contact can find and delete every file that contains them.
    """

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being written")
        DONE = "done", _("written")
        FAILED = "failed", _("failed")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DONE
    )
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    language = models.CharField(
        _("language of the file"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The headers and source statements are written in it."),
    )
    # The segment's search text may be a name or an e-mail address, so it is
    # kept only until the file is written.
    # NOTE: the person search and erasure do not read it. A queued or running
    # export keeps it for minutes, or up to the two hours after which a stalled
    # export is failed and the text blanked.
    search_text = models.TextField(_("search text"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_format = models.CharField(
        _("format"), max_length=4, choices=Format.choices, default=Format.CSV
    )
    file_path = models.CharField(
        _("file path"),
        max_length=255,
        blank=True,
        help_text=_("Relative to CAMPAIGN_EXPORT_ROOT, a private folder."),
    )
    filters = models.JSONField(_("segment filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("contacts exported"), default=0)
    excluded_count = models.PositiveIntegerField(
        _("contacts left out as not contactable"), default=0
    )
    records_notice = models.BooleanField(
        _("records the Art. 14 notice as sent"), default=False
    )
    records_message_date = models.BooleanField(
        _("records the campaign message date"), default=False
    )
    file_deleted_at = models.DateTimeField(_("file deleted at"), null=True, blank=True)
    file_deleted_reason = models.CharField(
        _("why the file was deleted"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("campaign export")
        verbose_name_plural = _("campaign exports")
        ordering = ["-created_at", "-pk"]
        permissions = [("export_campaign", _("Can export a campaign file"))]

    FILE_DELETED_REASONS = {
        "erasure": _("a person in it was erased"),
        "retention": _("a person in it reached the end of the retention period"),
    }

    def __str__(self):
        return f"#{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def file_deleted_reason_label(self) -> str:
        reason = self.file_deleted_reason
        return str(self.FILE_DELETED_REASONS.get(reason, reason))


class CampaignExportContact(models.Model):
    """One contact written to a campaign export file (ids only)."""

    export = models.ForeignKey(
        CampaignExport, on_delete=models.CASCADE, related_name="contact_rows"
    )
    contact_id = models.BigIntegerField(_("contact id"), db_index=True)

    class Meta:
        verbose_name = _("campaign export contact")
        verbose_name_plural = _("campaign export contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["export", "contact_id"], name="campaign_export_contact_once"
            )
        ]

    def __str__(self):
        return f"#{self.export_id} · {self.contact_id}"
