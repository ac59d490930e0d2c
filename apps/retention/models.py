from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionRun(models.Model):
    """One run of the retention job, real or dry, and what each step did.

    Status transitions: queued -> running -> succeeded or failed; running ->
    interrupted when a later run finds it still marked running (its process was
    killed); queued or running -> skipped when another run already holds the
    job's lock, or when the plan changed after the preview that a real run
    confirmed. ``steps`` is rewritten in the same transaction as each batch,
    so its counts always match the data, even after a kill.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")
        SKIPPED = "skipped", _("skipped")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("daily schedule")
        COMMAND = "command", _("management command")
        PAGE = "page", _("retention page")

    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_preview = models.ForeignKey(
        "self",
        verbose_name=_("confirmed preview"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The dry run whose counts the user confirmed on the page."),
    )
    as_of = models.DateField(
        _("applied as of"),
        help_text=_("The day (Europe/Paris) against which every limit is computed."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("run_retention", _("Can run the retention job or refresh its preview"))
        ]
        indexes = [models.Index(fields=["dry_run", "status", "-created_at"])]

    def __str__(self):
        kind = _("dry run") if self.dry_run else _("run")
        return f"{kind} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {
            self.Status.SUCCEEDED,
            self.Status.FAILED,
            self.Status.INTERRUPTED,
            self.Status.SKIPPED,
        }

    @property
    def total_removed(self) -> int:
        """Contacts deleted or anonymised and records purged, over every step.

        Always 0 for a dry run, which changes nothing: see ``total_would_remove``.
        """
        return sum(step.get("removed", 0) or 0 for step in self.steps)

    @property
    def total_would_remove(self) -> int:
        """Records a dry run found due for removal, over every step."""
        return sum(step.get("would_remove", 0) or 0 for step in self.steps)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
