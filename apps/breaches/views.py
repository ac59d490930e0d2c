import logging

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView
from django.views.generic import FormView
from django.views.generic import ListView

from apps.core.audit import audit_record
from apps.core.exports import csv_bytes
from apps.core.exports import csv_delimiter
from apps.core.exports import xlsx_bytes
from apps.core.permissions import RolePermissionMixin
from apps.core.submissions import DuplicateSubmission
from apps.core.submissions import duplicate_submission_redirect
from apps.core.submissions import submitted_once
from apps.core.text import labelled

from . import selectors
from . import services
from .exports import FORMATS
from .exports import BreachExportError
from .exports import breach_register_export
from .exports import breach_register_filename
from .forms import BreachForm
from .forms import CommunicationForm
from .forms import ContactSelectionForm
from .forms import NoteForm
from .forms import NotificationForm
from .models import Breach
from .pdf import breach_draft_pdf

logger = logging.getLogger(__name__)

# Rows shown in the affected-contacts preview. The export has them all.
PREVIEW_ROWS = 50


def _show_service_error(form, error: services.BreachError) -> None:
    """Show a rejected change next to the field at fault, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


class BreachMixin:
    """Load the breach named in the URL as ``self.breach``."""

    def dispatch(self, request, *args, **kwargs):
        self.breach = get_object_or_404(Breach, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["breach"] = self.breach
        return context


class BreachListView(RolePermissionMixin, ListView):
    permission_required = "breaches.view_breach"
    template_name = "breaches/breach_list.html"
    context_object_name = "breaches"
    paginate_by = 50

    def get_queryset(self):
        status = self.request.GET.get("status", "")
        if status and status not in Breach.Status.values:
            messages.warning(
                self.request,
                _("Unknown status “%(status)s”: showing every breach.")
                % {"status": status},
            )
            status = ""
        self.status = status
        return selectors.breach_list(status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = Breach.Status.choices
        context["status"] = self.status
        context["query_string"] = f"status={self.status}" if self.status else ""
        return context


class BreachRegisterExportView(RolePermissionMixin, View):
    """The whole breach register as CSV, XLSX, ODS or PDF (``?format=``).

    An unknown format gets a 400 page that names the formats and links them.
    """

    permission_required = "breaches.view_breach"

    def get(self, request, *args, **kwargs):
        file_format = request.GET.get("format", "csv")
        try:
            content, count = breach_register_export(
                file_format=file_format, actor=request.user
            )
        except BreachExportError as error:
            logger.info(
                "breach register export rejected, user %s: %s", request.user.pk, error
            )
            return render(
                request,
                "breaches/export_error.html",
                {"error": str(error), "formats": list(FORMATS)},
                status=400,
            )

        logger.info(
            "breach register exported as %s, %d breaches, user %s",
            file_format,
            count,
            request.user.pk,
        )
        response = HttpResponse(content, content_type=FORMATS[file_format][0])
        filename = breach_register_filename(file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class BreachCreateView(RolePermissionMixin, FormView):
    permission_required = "breaches.add_breach"
    template_name = "breaches/breach_form.html"
    form_class = BreachForm

    def form_valid(self, form):
        try:
            token = form.cleaned_data["submission_token"]
            with submitted_once(token, user=self.request.user) as created:
                breach = services.breach_create(
                    data=form.service_data(),
                    activities=form.cleaned_data["activities"],
                    actor=self.request.user,
                )
                created(reverse("breaches:breach-detail", args=[breach.pk]))
        except DuplicateSubmission as duplicate:
            return duplicate_submission_redirect(
                self.request, duplicate, "breaches:breach-list"
            )
        except services.BreachError as error:
            logger.info(
                "breach change rejected, user %s: %s", self.request.user.pk, error
            )
            _show_service_error(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Breach %(reference)s recorded.") % {"reference": breach.reference},
        )
        return redirect("breaches:breach-detail", pk=breach.pk)


class BreachUpdateView(RolePermissionMixin, BreachMixin, FormView):
    """The breach form; a closed breach redirects to its page with a message."""

    permission_required = "breaches.change_breach"
    template_name = "breaches/breach_form.html"
    form_class = BreachForm

    def get(self, request, *args, **kwargs):
        return self._closed_redirect() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._closed_redirect() or super().post(request, *args, **kwargs)

    def _closed_redirect(self):
        """Return a redirect to the breach page if the breach is closed, else None."""
        try:
            services.breach_require_editable(breach=self.breach)
        except services.BreachError as error:
            logger.info(
                "breach %s edit form rejected, user %s: the breach is closed",
                self.breach.pk,
                self.request.user.pk,
            )
            messages.error(self.request, str(error))
            return redirect("breaches:breach-detail", pk=self.breach.pk)
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.breach
        return kwargs

    def form_valid(self, form):
        try:
            services.breach_update(
                breach=self.breach,
                data=form.service_data(),
                activities=form.cleaned_data["activities"],
                actor=self.request.user,
                loaded_version=form.cleaned_data["loaded_version"],
                aware_at_change_reason=form.cleaned_data.get(
                    "aware_at_change_reason", ""
                ),
            )
        except services.BreachError as error:
            logger.info(
                "breach change rejected, user %s: %s", self.request.user.pk, error
            )
            _show_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Breach saved."))
        return redirect("breaches:breach-detail", pk=self.breach.pk)


class BreachDetailView(RolePermissionMixin, DetailView):
    permission_required = "breaches.view_breach"
    template_name = "breaches/breach_detail.html"
    context_object_name = "breach"
    queryset = Breach.objects.prefetch_related("activities")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        breach = self.object
        context["events"] = breach.events.select_related("actor")
        context["notifications"] = breach.notifications.all()
        context["alerts"] = breach.alerts.all()
        context["communications"] = breach.communications.all()
        context["can_change"] = self.request.user.has_perm("breaches.change_breach")
        context["can_inform"] = self.request.user.has_perm("breaches.inform_subjects")
        context.setdefault("note_form", NoteForm())
        context["controllers_served"] = selectors.breach_controllers_served(breach)
        return context


class BreachNotifyView(RolePermissionMixin, BreachMixin, FormView):
    permission_required = "breaches.change_breach"
    template_name = "breaches/breach_notify.html"
    form_class = NotificationForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["breach"] = self.breach
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        if self.breach.notified_at is not None:
            initial["phase"] = "complementary"
        initial["submitted_at"] = timezone.localtime().replace(second=0, microsecond=0)
        # Reasons typed on the breach form before notifying, to send as they are.
        initial["delay_reasons"] = self.breach.delay_reasons
        return initial

    def form_valid(self, form):
        try:
            services.breach_notify_authority(
                breach=self.breach, actor=self.request.user, **form.service_data()
            )
        except services.BreachError as error:
            logger.info(
                "breach change rejected, user %s: %s", self.request.user.pk, error
            )
            _show_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Notification recorded."))
        return redirect("breaches:breach-detail", pk=self.breach.pk)


class BreachCloseView(RolePermissionMixin, BreachMixin, View):
    permission_required = "breaches.change_breach"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            services.breach_close(breach=self.breach, actor=request.user)
        except services.BreachError as error:
            logger.info(
                "breach change rejected, user %s: %s", self.request.user.pk, error
            )
            messages.error(request, str(error))
        else:
            messages.success(request, _("Breach closed."))
        return redirect("breaches:breach-detail", pk=self.breach.pk)


class BreachNoteView(BreachDetailView):
    """Add a note to the timeline, or show the breach page with the form's errors.

    The page keeps the typed note, so that the user can fix it or tick the
    box that keeps an e-mail address or a phone number in it.
    """

    permission_required = "breaches.change_breach"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = breach = self.get_object()
        form = NoteForm(request.POST)
        if not form.is_valid():
            context = self.get_context_data(object=breach, note_form=form)
            return self.render_to_response(context, status=400)

        try:
            services.breach_add_note(
                breach=breach, text=form.cleaned_data["text"], actor=request.user
            )
        except services.BreachError as error:
            logger.info("breach change rejected, user %s: %s", request.user.pk, error)
            messages.error(request, str(error))
        else:
            messages.success(request, _("Note added to the timeline."))
        return redirect("breaches:breach-detail", pk=breach.pk)


class BreachDraftView(RolePermissionMixin, BreachMixin, View):
    """The notification draft as a page, or as a PDF with ``?format=pdf``."""

    permission_required = "breaches.view_breach"

    def get(self, request, *args, **kwargs):
        sections = selectors.breach_notification_draft(breach=self.breach)
        if request.GET.get("format") == "pdf":
            content = breach_draft_pdf(breach=self.breach, sections=sections)
            response = HttpResponse(content, content_type="application/pdf")
            # Translators: a download's file name; keep it ASCII, with no spaces.
            filename = _("%(reference)s-notification-draft.pdf") % {
                "reference": self.breach.reference
            }
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response

        return render(
            request,
            "breaches/breach_draft.html",
            {
                "breach": self.breach,
                "sections": sections,
                "controllers_served": selectors.breach_controllers_served(self.breach),
            },
        )


def _initial_selection(breach: Breach) -> dict:
    return {"activities": list(breach.activities.all())}


class BreachSubjectsView(RolePermissionMixin, BreachMixin, FormView):
    """People to inform: the DPO selects them, previews, exports, records."""

    permission_required = "breaches.inform_subjects"
    template_name = "breaches/breach_subjects.html"
    form_class = ContactSelectionForm
    http_method_names = ["get"]

    def get_form_kwargs(self):
        kwargs = {"initial": _initial_selection(self.breach)}
        if "selected" in self.request.GET:
            kwargs["data"] = self.request.GET
        return kwargs

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        context = {"form": form}
        if form.is_bound and form.is_valid():
            selection = form.selection()
            contacts = selectors.breach_affected_contacts(**selection)
            context["contact_count"] = contacts.count()
            context["preview"] = contacts.select_related("processing_activity")[
                :PREVIEW_ROWS
            ]
            context["query_string"] = request.GET.urlencode()
            context["communication_form"] = CommunicationForm(
                initial={
                    **form.cleaned_data,
                    "communicated_at": timezone.localtime().replace(
                        second=0, microsecond=0
                    ),
                }
            )
        context["communications"] = self.breach.communications.all()
        context["preview_rows"] = PREVIEW_ROWS
        return self.render_to_response(self.get_context_data(**context))


class BreachSubjectsExportView(RolePermissionMixin, BreachMixin, View):
    """The affected contacts as CSV or XLSX, built inside the request.

    NOTE: XLSX took about 30 seconds for 100,000 rows in bench/breaches.py on
    a shared 2-CPU machine, which may exceed a proxy's timeout. CSV took
    about 1.4 seconds. A
    Celery export job would be needed for very large lists.
    """

    permission_required = "breaches.inform_subjects"

    def get(self, request, *args, **kwargs):
        export_format = request.GET.get("format", "csv")
        if export_format not in ("csv", "xlsx"):
            messages.error(
                request,
                _("Unknown export format %(format)r; use csv or xlsx.")
                % {"format": export_format},
            )
            return redirect("breaches:breach-subjects", pk=self.breach.pk)
        form = ContactSelectionForm(request.GET)
        if not form.is_valid():
            for name, errors in form.errors.items():
                text = " ".join(errors)
                if name in form.fields:
                    text = labelled(form.fields[name].label, text)
                messages.error(request, text)
            return redirect("breaches:breach-subjects", pk=self.breach.pk)

        selection = form.selection()
        contacts = selectors.breach_affected_contacts(**selection)
        count = contacts.count()
        headers = selectors.contact_export_headers()
        rows = selectors.breach_affected_rows(contacts)
        if export_format == "csv":
            content = csv_bytes(headers, rows, delimiter=csv_delimiter())
            content_type = "text/csv; charset=utf-8"
        else:
            content = xlsx_bytes(headers, rows, title=self.breach.reference)
            content_type = (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )

        audit_record(
            action="breaches.subjects.exported",
            actor=request.user,
            target=self.breach,
            count=count,
            details={"format": export_format, **selection},
        )
        response = HttpResponse(content, content_type=content_type)
        # Translators: a download's file name; keep it ASCII, with no spaces.
        filename = _("%(reference)s-people-to-inform.%(extension)s") % {
            "reference": self.breach.reference,
            "extension": export_format,
        }
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class BreachCommunicationView(RolePermissionMixin, BreachMixin, FormView):
    permission_required = "breaches.inform_subjects"
    template_name = "breaches/breach_communication.html"
    form_class = CommunicationForm
    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        # A rejected form leaves this URL in the address bar; a reload shows
        # the breach's page instead of an empty 405.
        return redirect("breaches:breach-detail", pk=self.breach.pk)

    def form_valid(self, form):
        try:
            communication = services.breach_record_communication(
                breach=self.breach,
                communicated_at=form.cleaned_data["communicated_at"],
                method=form.cleaned_data["method"],
                actor=self.request.user,
                **form.selection(),
            )
        except services.BreachError as error:
            logger.info(
                "breach change rejected, user %s: %s", self.request.user.pk, error
            )
            _show_service_error(form, error)
            return self.form_invalid(form)
        count = communication.recipient_count
        messages.success(
            self.request,
            ngettext(
                "Communication to %(count)s person recorded.",
                "Communication to %(count)s people recorded.",
                count,
            )
            % {"count": number_format(count, force_grouping=True)},
        )
        already = count - communication.newly_informed_count
        if already:
            messages.warning(
                self.request,
                ngettext(
                    "%(count)s of them had already been informed of this breach by "
                    "an earlier communication; the breach counts each person once.",
                    "%(count)s of them had already been informed of this breach by "
                    "an earlier communication; the breach counts each person once.",
                    already,
                )
                % {"count": number_format(already, force_grouping=True)},
            )
        return redirect("breaches:breach-detail", pk=self.breach.pk)
