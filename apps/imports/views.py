import csv
import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.http import HttpResponse
from django.http import JsonResponse
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.generic import FormView
from django.views.generic import ListView
from django.views.generic import TemplateView

from apps.contacts.models import Vendor
from apps.core.audit import audit_record
from apps.core.exports import csv_delimiter
from apps.core.exports import safe_row
from apps.core.exports import xlsx_bytes
from apps.core.permissions import RolePermissionMixin
from apps.imports import job_actions
from apps.imports import services
from apps.imports.errors import DryRunFileError
from apps.imports.forms import MappingForm
from apps.imports.forms import SheetForm
from apps.imports.forms import UploadForm
from apps.imports.mapping import header_warnings
from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.phone_countries import phone_country_label
from apps.imports.readers import UnreadableFile
from apps.imports.selectors import STALE_AFTER
from apps.imports.selectors import job_is_active
from apps.imports.selectors import job_list
from apps.imports.selectors import job_noted_rows
from apps.imports.selectors import job_preview
from apps.imports.selectors import job_problem_rows
from apps.imports.selectors import job_rejected_export
from apps.imports.selectors import job_status_mark
from apps.imports.selectors import job_summary

logger = logging.getLogger(__name__)
# Rows of each kind listed on a finished job's report.
REPORT_ROWS_SHOWN = 50
# Minutes without a progress report after which a running job's page says so,
# well before the job counts as stalled. A running import reports every few
# seconds.
QUIET_WARNING_MINUTES = 2

# The rows of a vendor file contain names, e-mail addresses and phone numbers.
# The reasons given for rows name the file's columns and can quote a cell. A
# user who may only oversee imports sees a job's metadata and counts, and the
# rows need the permission that gates the contact pages.
ROWS_PERMISSION = "contacts.view_contact"


def _outcome_label(value: str) -> str:
    return str(Outcome(value).label) if value in Outcome.values else value


class JobListView(RolePermissionMixin, ListView):
    permission_required = "imports.view_importjob"
    template_name = "imports/job_list.html"
    context_object_name = "jobs"
    paginate_by = 50

    def get_queryset(self):
        return job_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for job in context["jobs"]:
            job_status_mark(job)
        return context


class JobCreateView(RolePermissionMixin, FormView):
    permission_required = "imports.add_importjob"
    template_name = "imports/job_form.html"
    form_class = UploadForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["vendors"] = Vendor.objects.values_list("name", flat=True)
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        upload = data["source_file"]
        try:
            job = services.import_job_create(
                upload=upload.file,
                file_name=upload.name,
                vendor_name=data["vendor_name"],
                list_name=data["list_name"],
                acquisition=data["acquisition"],
                acquired_on=data["acquired_on"],
                licence_ends_on=data["licence_ends_on"],
                collection_method=data["collection_method"],
                consent_claim=data["consent_claim"],
                audience=data["audience"],
                processing_activity=data["processing_activity"],
                lawful_basis=data["lawful_basis"],
                phone_country=data["phone_country"],
                actor=self.request.user,
            )
        except services.ImportInputError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, str(error))
            return self.form_invalid(form)
        return redirect("imports:job-detail", pk=job.pk)


class JobDetailView(RolePermissionMixin, TemplateView):
    permission_required = "imports.view_importjob"
    template_name = "imports/job_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = job_status_mark(get_object_or_404(job_list(), pk=self.kwargs["pk"]))
        can_view_rows = self.request.user.has_perm(ROWS_PERMISSION)
        context["job"] = job
        context["active"] = job_is_active(job)
        context["stale_minutes"] = int(STALE_AFTER.total_seconds() // 60)
        context["quiet_warning_minutes"] = QUIET_WARNING_MINUTES
        context["can_change"] = self.request.user.has_perm("imports.change_importjob")
        context["can_view_rows"] = can_view_rows
        context["can_resume"] = services.job_is_resumable(job)
        context["phone_country"] = phone_country_label(job.phone_country)
        context["reasons_language"] = _reasons_language_name(job)
        context["outcomes"] = [
            (label, job.counts[value]) for value, label in Outcome.choices
        ]
        pending = job.status == ImportJob.Status.PENDING
        if pending and job.source_file and can_view_rows:
            context.update(self._pending_context(job, kwargs.get("mapping_form")))
        if job.status == ImportJob.Status.DONE:
            context["noted_count"] = job_noted_rows(job).count()
            if can_view_rows:
                context["problems"] = job_problem_rows(job, limit=REPORT_ROWS_SHOWN)
                context["problem_count"] = job_problem_rows(job).count()
                context["noted"] = job_noted_rows(job, limit=REPORT_ROWS_SHOWN)
        summary = job.dry_run_summary or {}
        if summary.get("problems") and can_view_rows:
            context["dry_run_problems"] = [
                {**problem, "outcome_label": _outcome_label(problem["outcome"])}
                for problem in summary["problems"]
            ]
        if summary.get("counts"):
            context["dry_run_counts"] = [
                (label, summary["counts"].get(value, 0))
                for value, label in Outcome.choices
            ]
        return context

    def _pending_context(self, job, mapping_form=None):
        """Return the preview and the mapping form of a pending job.

        ``mapping_form`` is a rejected form to show again with the user's
        choices and its errors, which then replace the saved mapping's
        problems.
        """
        try:
            layout = services.job_layout(job)
            preview = job_preview(job)
        except UnreadableFile as error:
            return {"layout_error": str(error)}
        except OSError as error:
            return {"layout_error": _file_lost_message(job, error)}
        # The dry run and the import use the saved mapping. While the page
        # shows a rejected mapping instead, it offers neither of them.
        mapping_unsaved = mapping_form is not None
        if mapping_form is None:
            mapping_form = MappingForm(headers=layout.headers, mapping=job.mapping)
            mapping = job.mapping
            problems = services.mapping_problems(
                job.mapping, len(layout.headers), headers=layout.headers
            )
        else:
            mapping = mapping_form.submitted_mapping()
            problems = []
        return {
            "layout": layout,
            "mapping_unsaved": mapping_unsaved,
            "preview": preview,
            "mapping_form": mapping_form,
            "header_warnings": header_warnings(layout.headers, mapping),
            "professional_warning": services.professional_details_warning(job, mapping),
            "sheets_warning": services.other_contact_sheets_warning(job),
            "unnamed_columns_warning": services.unnamed_columns_warning(job, mapping),
            "mapping_problems": problems,
            "sheet_form": SheetForm(
                sheets=layout.sheet_names, initial={"sheet": layout.sheet_name}
            )
            if len(layout.sheet_names) > 1
            else None,
        }


def _reasons_language_name(job: ImportJob) -> str:
    """Return the name of the language of the job's reasons, if not the reader's.

    The reasons are written when the job runs, in the language of the user who
    started it, so a reader of the other language sees a note saying so.
    """
    written_in = (job.language or settings.LANGUAGE_CODE).split("-")[0]
    reading_in = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if written_in == reading_in:
        return ""
    names = {
        "fr": pgettext("written in", "French"),
        "en": pgettext("written in", "English"),
    }
    return names.get(written_in, written_in)


def _file_lost_message(job: ImportJob, error: OSError) -> str:
    """Log that the job's file cannot be opened and return the page's message.

    The operating system's message is in English and names a server path, so
    the page gets a translated one instead.
    """
    logger.warning(
        "import job %s: uploaded file unreadable (%s)", job.pk, type(error).__name__
    )
    return _(
        "The uploaded file of this job cannot be read any more (it was moved or "
        "deleted). Cancel this job and upload the file again."
    )


class JobActionView(RolePermissionMixin, View):
    """POST-only actions on a job; each calls one service and redirects.

    A rejected action, such as a start posted again from a second tab, comes
    back on the job's page as an error message naming the job's status.
    """

    permission_required = "imports.change_importjob"
    action = ""

    def get(self, request, pk):
        # The address bar keeps an action's URL after a rejected form: a
        # reload then shows the job's page instead of an empty 405.
        return redirect("imports:job-detail", pk=pk)

    def post(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        try:
            getattr(self, f"do_{self.action}")(job)
        except DryRunFileError:
            messages.error(
                request,
                _(
                    "The import was not started: its dry run stopped on the "
                    "problem of the file shown below."
                ),
            )
        except services.ImportInputError as error:
            messages.error(request, str(error))
        except UnreadableFile as error:
            messages.error(request, str(error))
        except OSError as error:
            messages.error(request, _file_lost_message(job, error))
        return redirect("imports:job-detail", pk=job.pk)

    def do_sheet(self, job):
        job_actions.job_pending_check(job, action=job_actions.SHEET)
        layout = services.job_layout(job)
        if not layout.sheet_names:
            raise services.ImportInputError(
                _("This file has no sheets to choose from: only a workbook has.")
            )
        form = SheetForm(self.request.POST, sheets=layout.sheet_names)
        if not form.is_valid():
            raise services.ImportInputError(
                _("Choose one of the workbook's sheets: %(sheets)s.")
                % {"sheets": ", ".join(layout.sheet_names)}
            )
        services.import_job_sheet_choose(job=job, sheet_name=form.cleaned_data["sheet"])

    def do_check(self, job):
        services.import_job_check(job=job, actor=self.request.user)

    def do_start(self, job):
        services.import_job_start(
            job=job,
            actor=self.request.user,
            professional_use_confirmed=bool(
                self.request.POST.get("professional_use_confirmed")
            ),
        )

    def do_resume(self, job):
        services.import_job_resume(job=job, actor=self.request.user)
        messages.success(
            self.request, _("Import resumed; it reads the file again from the start.")
        )

    def do_cancel(self, job):
        services.import_job_cancel(job=job, actor=self.request.user)
        messages.success(self.request, _("Import cancelled; its file was deleted."))


class JobMappingView(JobDetailView):
    """Save a pending job's column mapping.

    A rejected mapping shows the job's page again with the columns as the
    user set them and each error beside the column at fault. The form shows
    the file's headers, so posting it also needs ``ROWS_PERMISSION``.
    """

    permission_required = ("imports.change_importjob", ROWS_PERMISSION)
    http_method_names = ["get", "post"]

    def get(self, request, pk):
        # A rejected mapping leaves this URL in the address bar.
        return redirect("imports:job-detail", pk=pk)

    def post(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        try:
            job_actions.job_pending_check(job, action=job_actions.MAP)
            headers = services.job_headers(job)
        except (services.ImportInputError, UnreadableFile) as error:
            messages.error(request, str(error))
            return redirect("imports:job-detail", pk=job.pk)
        except OSError as error:
            messages.error(request, _file_lost_message(job, error))
            return redirect("imports:job-detail", pk=job.pk)

        form = MappingForm(request.POST, headers=headers, mapping=job.mapping)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(mapping_form=form))

        try:
            services.import_job_map(
                job=job,
                mapping=form.mapping(),
                save_for_vendor=form.cleaned_data["save_for_vendor"],
                actor=request.user,
            )
        except services.ImportInputError as error:
            # The form checked the mapping, so the job changed meanwhile,
            # and its page no longer shows the form.
            messages.error(request, str(error))
        else:
            messages.success(request, _("Mapping saved."))
        return redirect("imports:job-detail", pk=job.pk)


class JobProgressView(RolePermissionMixin, View):
    permission_required = "imports.view_importjob"

    def get(self, request, pk):
        job = job_status_mark(get_object_or_404(job_list(), pk=pk))
        summary = job_summary(
            job, with_row_reasons=request.user.has_perm(ROWS_PERMISSION)
        )
        # A stalled job is not active, so the page stops polling and reloads
        # to offer its actions.
        summary["active"] = job_is_active(job)
        summary["stalled"] = job.stalled
        summary["quiet_minutes"] = job.quiet_minutes
        summary["status_label"] = job.status_label
        summary["url"] = reverse("imports:job-detail", args=[job.pk])
        return JsonResponse(summary)


class _Echo:
    def write(self, value):
        return value


def _csv_response(headers, rows, name: str) -> StreamingHttpResponse:
    """Stream ``rows`` as a formula-safe CSV that Excel opens by double-click."""
    # Excel opens a CSV by double-click with the list separator of the user's
    # regional settings, ";" in French.
    writer = csv.writer(_Echo(), delimiter=csv_delimiter())

    def lines():
        yield "\ufeff" + writer.writerow(safe_row(headers))
        for row in rows:
            yield writer.writerow(safe_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class JobNotesDownloadView(RolePermissionMixin, View):
    """Every row imported with a note (a value left out, a repeat), as CSV.

    The page lists the first rows only, to the users who may see the rows.
    """

    permission_required = ("imports.view_importjob", ROWS_PERMISSION)

    def get(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        if job.status != ImportJob.Status.DONE:
            rejected = job_actions.job_action_rejected(
                job, action=job_actions.NOTES_DOWNLOAD
            )
            messages.error(request, str(rejected))
            return redirect("imports:job-detail", pk=job.pk)
        rows = (
            (row_number, str(Outcome(outcome).label), reason)
            for row_number, outcome, reason in job_noted_rows(job)
            .values_list("row_number", "outcome", "reason")
            .iterator(chunk_size=5000)
        )
        headers = [
            pgettext("rejected rows column", "row"),
            pgettext("rejected rows column", "outcome"),
            pgettext("rejected rows column", "note"),
        ]
        return _csv_response(headers, rows, f"import-{job.pk}-notes.csv")


class JobRejectedDownloadView(RolePermissionMixin, View):
    """The rejected rows with their reasons, formula-safe, as CSV or XLSX.

    The rows keep the file's original cells, so the download also needs
    ``ROWS_PERMISSION``.
    """

    permission_required = ("imports.view_importjob", ROWS_PERMISSION)

    def get(self, request, pk, file_format):
        if file_format not in ("csv", "xlsx"):
            raise Http404(_("Download the rejected rows as .csv or .xlsx."))
        job = get_object_or_404(ImportJob, pk=pk)
        if job.status != ImportJob.Status.DONE:
            rejected = job_actions.job_action_rejected(
                job, action=job_actions.REJECTED_DOWNLOAD
            )
            messages.error(request, str(rejected))
            return redirect("imports:job-detail", pk=job.pk)
        headers, rows = job_rejected_export(job)
        name = f"import-{job.pk}-rejected.{file_format}"
        audit_record(
            action="imports.rejected_rows.exported",
            actor=request.user,
            target=job,
            count=job.rejected_count,
            details={"format": file_format},
        )
        if file_format == "xlsx":
            response = HttpResponse(
                xlsx_bytes(headers, rows, title=_("Rejected rows")),
                content_type="application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return _csv_response(headers, rows, name)
