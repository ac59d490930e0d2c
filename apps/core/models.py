from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.text import newlines_unified


class Organisation(models.Model):
    """The controller: the company that keeps this register (a single row)."""

    name = models.CharField(_("legal name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    registration_number = models.CharField(
        _("registration number (SIREN/SIRET)"), max_length=50, blank=True
    )
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    legal_representative = models.CharField(
        _("legal representative"), max_length=200, blank=True
    )
    eu_representative = models.TextField(
        _("EU representative"),
        blank=True,
        help_text=_(
            "Name and address; only for controllers established outside the EU."
        ),
    )
    dpo_name = models.CharField(_("DPO name"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True)
    dpo_phone = models.CharField(_("DPO phone"), max_length=50, blank=True)
    dpo_address = models.TextField(_("DPO postal address"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")
        permissions = [("view_audit_trail", _("Can view the audit trail"))]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Browsers submit textarea lines with CRLF; the exports join lines on LF.
        for field in self._meta.concrete_fields:
            value = getattr(self, field.attname)
            if isinstance(value, str):
                setattr(self, field.attname, newlines_unified(value))
        super().save(*args, **kwargs)

    def missing_items(self) -> list[str]:
        """Return the labels of the Art. 30(1)(a) items not yet filled in."""
        required = ["name", "address", "registration_number", "dpo_name", "dpo_email"]
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in required
            if not getattr(self, name)
        ]

    @classmethod
    def current(cls) -> "Organisation":
        """Return the organisation, creating an empty one on first use."""
        organisation = cls.objects.order_by("pk").first()
        if organisation is None:
            organisation = cls.objects.create(name="")
        return organisation


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only and cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events are append-only and cannot be deleted.")


class AuditEvent(models.Model):
    """One action on personal data or on the register: who, what, how many.

    Append-only: saving an existing event, updating or deleting raises
    ``PermissionError``. Details never hold personal data, only ids and counts.
    """

    occurred_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(
        _("actor label"),
        max_length=150,
        blank=True,
        help_text=_("The system job that acted when no user did."),
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only and cannot be deleted.")

    def clean(self):
        if not self.action:
            raise ValidationError({"action": _("An audit event needs an action.")})


class FormSubmission(models.Model):
    """A create form that was posted, by the token its page carried.

    A second post of the same page (a double click, a reload, a retry after a
    slow response) finds the token taken and is sent to what the first one
    created, instead of creating it twice.
    """

    token = models.UUIDField(_("token"), unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_url = models.CharField(_("created page"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self):
        return str(self.token)
