import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def latest_checks_copy(apps, schema_editor):
    """Copy each request's latest identity check, the only one stored before."""
    SubjectRequest = apps.get_model("subject_requests", "SubjectRequest")
    RequestEvent = apps.get_model("subject_requests", "RequestEvent")
    IdentityCheck = apps.get_model("subject_requests", "IdentityCheck")
    checked = SubjectRequest.objects.exclude(identity_checked_at=None)
    for request in checked.iterator():
        event = (
            RequestEvent.objects.filter(request=request, action="identity_checked")
            .order_by("-occurred_at", "-pk")
            .first()
        )
        IdentityCheck.objects.create(
            request=request,
            verified=request.identity_status == "verified",
            method=request.identity_method,
            checked_at=request.identity_checked_at,
            checked_by_id=event.actor_id if event else None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("subject_requests", "0003_extension_informed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentityCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("verified", models.BooleanField(verbose_name="verified")),
                (
                    "method",
                    models.CharField(
                        max_length=200, verbose_name="identity check method"
                    ),
                ),
                (
                    "checked_at",
                    models.DateTimeField(verbose_name="identity checked at"),
                ),
                (
                    "checked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="identity_checks",
                        to="subject_requests.subjectrequest",
                    ),
                ),
            ],
            options={
                "verbose_name": "identity check",
                "verbose_name_plural": "identity checks",
                "ordering": ["checked_at", "pk"],
            },
        ),
        migrations.RunPython(latest_checks_copy, migrations.RunPython.noop),
    ]
