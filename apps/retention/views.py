from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView
from django.views.generic import TemplateView

from apps.core.permissions import RolePermissionMixin
from apps.retention.forms import ApplyConfirmForm
from apps.retention.forms import RunRequestForm
from apps.retention.models import RetentionRun
from apps.retention.policy import local_today
from apps.retention.schedule import next_scheduled_run
from apps.retention.selectors import preview_confirmable
from apps.retention.selectors import preview_current
from apps.retention.selectors import preview_failed_since
from apps.retention.selectors import preview_plan_changed
from apps.retention.selectors import run_latest
from apps.retention.selectors import run_pending
from apps.retention.selectors import run_steps_by_activity
from apps.retention.selectors import runs_recent
from apps.retention.services import retention_run_request


class RetentionOverviewView(RolePermissionMixin, TemplateView):
    """Next run, last run with its counts, and the preview of the next run."""

    permission_required = "retention.view_retentionrun"
    template_name = "retention/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        last_run = run_latest(dry_run=False)
        preview = run_latest(dry_run=True, ahead_only=True)
        context.update(
            next_run=next_scheduled_run(),
            last_run=last_run,
            last_run_groups=run_steps_by_activity(last_run) if last_run else [],
            preview=preview,
            preview_failed=preview_failed_since(preview),
            preview_outdated=bool(
                preview and last_run and preview.created_at < last_run.created_at
            ),
            preview_plan_changed=preview_plan_changed(preview),
            preview_groups=run_steps_by_activity(preview) if preview else [],
            pending=run_pending(),
            runs=runs_recent(limit=10),
            can_run=self.request.user.has_perm("retention.run_retention"),
            form=RunRequestForm(),
        )
        apply_preview = preview_confirmable(preview, last_run)
        context.update(
            apply_preview=apply_preview,
            apply_preview_ahead=bool(
                apply_preview and apply_preview.as_of > local_today()
            ),
            apply_form=ApplyConfirmForm(preview=apply_preview),
        )
        return context


class RetentionRunRequestView(RolePermissionMixin, View):
    """Queue a preview or a real run (POST only).

    A real run needs the confirmation form of the overview: its tick box, and
    the id of the preview whose counts the page showed.
    """

    permission_required = "retention.run_retention"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = RunRequestForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(
                " ".join(form.errors["kind"]), content_type="text/plain; charset=utf-8"
            )

        dry_run = form.cleaned_data["kind"] == RunRequestForm.PREVIEW
        if not dry_run:
            latest = run_latest(dry_run=True, ahead_only=True)
            confirmation = ApplyConfirmForm(
                request.POST,
                preview=preview_current(),
                plan_changed=preview_plan_changed(latest),
            )
            if not confirmation.is_valid():
                for errors in confirmation.errors.values():
                    for error in errors:
                        messages.error(request, error)
                return redirect("retention:overview")

        as_of = None
        if dry_run:
            upcoming = next_scheduled_run()
            as_of = upcoming.local_day if upcoming else None
        run = retention_run_request(
            requested_by=request.user,
            dry_run=dry_run,
            as_of=as_of,
            confirmed_preview=None if dry_run else confirmation.current_preview,
        )
        run.refresh_from_db(fields=["status", "error"])
        if run.status == RetentionRun.Status.FAILED:
            messages.error(request, run.error)
        elif dry_run:
            messages.success(
                request,
                _("Preview #%(id)s queued: the page shows it once a worker has run it.")
                % {"id": run.pk},
            )
        else:
            messages.success(
                request,
                _("Retention run #%(id)s queued: a worker applies the rules shortly.")
                % {"id": run.pk},
            )
        return redirect("retention:overview")


class RetentionRunDetailView(RolePermissionMixin, DetailView):
    permission_required = "retention.view_retentionrun"
    template_name = "retention/run_detail.html"
    model = RetentionRun
    context_object_name = "run"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["groups"] = run_steps_by_activity(self.object)
        return context
