from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.contacts.models import Contact


class SubjectRequest(models.Model):
    """A data-subject rights request (GDPR Art. 15-22) from receipt to closure.

    Status transitions: received -> in_progress (identity verified, or an
    objection granted); received or in_progress -> refused (with a reason,
    final); in_progress -> closed (final), and received -> closed for an
    objection, which needs no identity check. ``closed_at`` is set on closed
    and refused, and the retention job purges requests some years after it.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", _("access (Art. 15)")
        RECTIFICATION = "rectification", _("rectification (Art. 16)")
        ERASURE = "erasure", _("erasure (Art. 17)")
        RESTRICTION = "restriction", _("restriction (Art. 18)")
        PORTABILITY = "portability", _("portability (Art. 20)")
        OBJECTION = "objection", _("objection (Art. 21)")

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        LETTER = "letter", _("letter")
        FORM = "form", _("web form")
        PHONE = "phone", _("phone")
        IN_PERSON = "in_person", _("in person")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        IN_PROGRESS = "in_progress", _("in progress")
        CLOSED = "closed", _("closed")
        REFUSED = "refused", _("refused")

    class IdentityStatus(models.TextChoices):
        PENDING = "pending", _("not verified yet")
        VERIFIED = "verified", _("verified")
        FAILED = "failed", _("could not be verified")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    requester_name = models.CharField(_("requester's name"), max_length=200)
    requester_email = models.CharField(
        _("requester's e-mail"), max_length=254, blank=True, db_index=True
    )
    requester_phone = models.CharField(
        _("requester's phone (E.164)"), max_length=20, blank=True
    )
    requester_address = models.TextField(_("requester's postal address"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    received_on = models.DateField(
        _("received on (Paris date)"),
        help_text=_("The local date from which the one-month deadline runs."),
    )
    initial_due_on = models.DateField(_("initial due date"))
    due_on = models.DateField(_("due date"), db_index=True)
    extension_months = models.PositiveSmallIntegerField(
        _("extension (months)"), default=0
    )
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    # GDPR Art. 12(3): the person must be informed of an extension and its
    # reasons within the first month. These fields record the latest notice,
    # and each "extended" event of the timeline keeps its own.
    extension_informed_on = models.DateField(
        _("person informed of the extension on"), null=True, blank=True
    )
    extension_informed_by = models.CharField(
        _("person informed of the extension by"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
    )
    identity_status = models.CharField(
        _("identity check"),
        max_length=10,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PENDING,
    )
    # The latest check; ``identity_checks`` keeps every one.
    identity_method = models.CharField(
        _("identity check method"), max_length=200, blank=True
    )
    identity_checked_at = models.DateTimeField(
        _("identity checked at"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.RECEIVED
    )
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subject_requests",
    )
    contacts = models.ManyToManyField(
        Contact,
        verbose_name=_("linked contacts"),
        blank=True,
        related_name="subject_requests",
    )
    last_search = models.JSONField(
        _("last search"),
        default=dict,
        blank=True,
        help_text=_("Sources searched and matches as kinds and ids, no data."),
    )
    response_sent_at = models.DateTimeField(
        _("response sent at"), null=True, blank=True
    )
    overdue_flagged_at = models.DateTimeField(
        _("flagged overdue at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("subject-rights request")
        verbose_name_plural = _("subject-rights requests")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="request_status_due_idx"),
            models.Index(fields=["closed_at"], name="request_closed_at_idx"),
            models.Index(fields=["requester_phone"], name="request_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(initial_due_on__gt=models.F("received_on")),
                name="request_due_after_receipt",
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("initial_due_on")),
                name="request_due_not_before_initial",
            ),
            models.CheckConstraint(
                condition=models.Q(extension_months__lte=2),
                name="request_extension_at_most_two_months",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["closed", "refused"])
                | models.Q(closed_at__isnull=False),
                name="request_final_has_closed_at",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} · {self.get_kind_display()}"

    @property
    def reference(self) -> str:
        return f"DSR-{self.pk:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RequestEvent(models.Model):
    """One step of a request's timeline. ``details`` contains ids and counts only."""

    ACTION_LABELS = {
        "created": _("request recorded"),
        "identity_checked": _("identity checked"),
        "extended": _("deadline extended"),
        "searched": _("person searched"),
        "contacts_linked": _("contacts linked"),
        "contact_unlinked": _("contact unlinked"),
        "contacts_set_aside": _("contacts set aside as someone else's"),
        "access_package_built": _("access package built"),
        "portability_package_built": _("portability data built"),
        "rectified": _("contact rectified"),
        "rectification_not_needed": _("contact accurate, no change needed"),
        "restricted": _("processing restricted"),
        "restriction_lifted": _("restriction lifted"),
        "objected": _("objection granted"),
        "erased": _("person erased"),
        "contacts_erased": _("linked contacts erased by another request"),
        "changed_in_admin": _("changed in the admin"),
        "closed": pgettext_lazy("request timeline", "request closed"),
        "refused": _("request refused"),
    }

    request = models.ForeignKey(
        SubjectRequest, on_delete=models.CASCADE, related_name="events"
    )
    occurred_at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=50)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["occurred_at", "pk"]

    def __str__(self):
        return f"{self.request_id} {self.action}"

    @property
    def action_label(self) -> str:
        return self.ACTION_LABELS.get(self.action, self.action)


class IdentityCheck(models.Model):
    """One check of the requester's identity. A failed check followed by a
    successful one both stay on the record."""

    request = models.ForeignKey(
        SubjectRequest, on_delete=models.CASCADE, related_name="identity_checks"
    )
    verified = models.BooleanField(_("verified"))
    method = models.CharField(_("identity check method"), max_length=200)
    checked_at = models.DateTimeField(_("identity checked at"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")
        ordering = ["checked_at", "pk"]

    def __str__(self):
        return f"{self.request_id} {self.checked_at:%Y-%m-%d}"

    @property
    def result_label(self) -> str:
        status = SubjectRequest.IdentityStatus
        return str((status.VERIFIED if self.verified else status.FAILED).label)


class ErasureProof(models.Model):
    """Record of one erasure: kinds of records and their counts, never the data."""

    request = models.ForeignKey(
        SubjectRequest, on_delete=models.CASCADE, related_name="erasure_proofs"
    )
    erased_at = models.DateTimeField(_("erased at"), auto_now_add=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    erased_by_label = models.CharField(
        _("erased by (command)"), max_length=150, blank=True
    )
    record_counts = models.JSONField(_("records removed, by kind"), default=dict)
    suppression_kinds = models.JSONField(
        _("identifier kinds put on the suppression list"),
        default=list,
        help_text=_("Kinds of the identifiers listed, whether new or already there."),
    )
    suppression_counts = models.JSONField(
        _("new suppression entries, by identifier kind"),
        default=dict,
        help_text=_("Empty for proofs written before the counts were kept."),
    )
    suppression_added = models.PositiveIntegerField(
        _("new suppression entries"), default=0
    )

    class Meta:
        verbose_name = _("proof of erasure")
        verbose_name_plural = _("proofs of erasure")
        ordering = ["-erased_at"]

    def __str__(self):
        return f"{self.request_id} {self.erased_at:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(self.record_counts.values())


class ReminderSent(models.Model):
    """A deadline reminder already sent; the unique key stops a second sending."""

    request = models.ForeignKey(
        SubjectRequest, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=20)
    due_on = models.DateField(_("for the due date"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind", "due_on"], name="reminder_sent_once"
            )
        ]

    def __str__(self):
        return f"{self.request_id} {self.kind} {self.due_on}"
