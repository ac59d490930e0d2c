import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.http import HttpResponse
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from apps.core.dates import format_datetime
from apps.core.models import Organisation
from apps.core.permissions import RolePermissionMixin
from apps.core.text import labelled
from apps.register.deletion import activity_delete
from apps.register.exports import FORMATS
from apps.register.exports import ExportError
from apps.register.exports import export_filename
from apps.register.exports import is_processor_record
from apps.register.exports import register_export
from apps.register.forms import PART_FORMSETS
from apps.register.forms import PART_TITLES
from apps.register.forms import ActivityFilterForm
from apps.register.forms import ActivityForm
from apps.register.forms import ReferenceTermForm
from apps.register.forms import RegisterImportForm
from apps.register.forms import reference_terms
from apps.register.imports import ImportConfirmation
from apps.register.imports import register_import
from apps.register.models import ProcessingActivity
from apps.register.models import ReferenceTerm
from apps.register.notice import activity_notice
from apps.register.selectors import activities_for_export
from apps.register.selectors import activity_detail
from apps.register.selectors import activity_history
from apps.register.selectors import activity_list
from apps.register.selectors import activity_visible_to
from apps.register.selectors import deleted_activity
from apps.register.services import ActivityData
from apps.register.services import activity_missing_items
from apps.register.services import activity_save
from apps.register.services import part_permitted
from apps.register.services import reference_term_add
from apps.register.services import reference_term_delete
from apps.register.staging import staged_file_path
from apps.register.staging import staged_file_write
from apps.register.staging import staged_files_purge

logger = logging.getLogger(__name__)

IMPORT_SESSION_KEY = "register_import"


class ActivityListView(RolePermissionMixin, TemplateView):
    permission_required = "register.view_processingactivity"
    template_name = "register/activity_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ActivityFilterForm(self.request.GET or None)
        context["filter_form"] = form
        if form.is_bound and not form.is_valid():
            # The export links of the page would reject these filters, so the
            # list shows their errors rather than the whole register.
            context["filter_errors"] = [
                labelled(form.fields[name].label, error)
                for name, errors in form.errors.items()
                for error in errors
            ]
            context["activities"] = []
        else:
            filters = form.cleaned_data if form.is_bound else {}
            context["activities"] = activity_list(
                user=self.request.user, filters=filters
            )
        context["can_add"] = self.request.user.has_perm(
            "register.add_processingactivity"
        )
        context["can_export"] = self.request.user.has_perm("register.export_register")
        context["can_import"] = self.request.user.has_perm("register.import_register")
        context["organisation_missing"] = Organisation.current().missing_items()
        return context


class _ActivityMixin:
    def get_activity(self) -> ProcessingActivity:
        try:
            return activity_detail(user=self.request.user, pk=self.kwargs["pk"])
        except ProcessingActivity.DoesNotExist as error:
            raise Http404(_("No such processing activity.")) from error


class ActivityDetailView(RolePermissionMixin, _ActivityMixin, TemplateView):
    permission_required = "register.view_processingactivity"
    template_name = "register/activity_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = self.get_activity()
        context["activity"] = activity
        if activity.has_public_notice:
            context["notice_url"] = settings.SITE_URL + reverse(
                "register:notice", args=[activity.notice_token]
            )
        context["missing"] = activity_missing_items(activity=activity)
        context["profession_label"] = ProcessingActivity._meta.get_field(
            "concerns_recipients_profession"
        ).verbose_name
        context["part_titles"] = PART_TITLES
        context["tab"] = "details"
        context["can_change"] = self.request.user.has_perm(
            "register.change_processingactivity"
        )
        context["can_export"] = self.request.user.has_perm("register.export_register")
        context["can_delete"] = (
            self.request.user.has_perm("register.delete_processingactivity")
            and activity.status == ProcessingActivity.Status.DRAFT
            and not activity.has_left_draft()
        )
        return context


class ActivityHistoryView(RolePermissionMixin, _ActivityMixin, TemplateView):
    permission_required = "register.view_processingactivity"
    template_name = "register/activity_history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        deleted = deleted_activity(user=self.request.user, pk=self.kwargs["pk"])
        if deleted is not None:
            activity, context["deleted_at"] = deleted
        else:
            activity = self.get_activity()
        context["activity"] = activity
        context["entries"] = activity_history(activity=activity)
        context["tab"] = "history"
        return context


class ActivityEditView(RolePermissionMixin, View):
    """Create an activity (no ``pk``) or edit one, with its parts as formsets."""

    template_name = "register/activity_form.html"

    def get_permission_required(self):
        if "pk" in self.kwargs:
            return ["register.change_processingactivity"]
        return ["register.add_processingactivity"]

    def get_activity(self) -> ProcessingActivity | None:
        if "pk" not in self.kwargs:
            return None
        activity = activity_visible_to(user=self.request.user).filter(
            pk=self.kwargs["pk"]
        )
        if not activity.exists():
            raise Http404(_("No such processing activity."))
        return activity.get()

    def get(self, request, *args, **kwargs):
        deleted = self._deleted_redirect(
            _("%(reference)s was deleted on %(when)s, so it cannot be edited.")
        )
        if deleted:
            return deleted
        activity = self.get_activity()
        form = ActivityForm(instance=activity)
        formsets = self._formsets(activity)
        return self._render(activity, form, formsets)

    def post(self, request, *args, **kwargs):
        deleted = self._deleted_redirect(
            _(
                "%(reference)s was deleted on %(when)s, after this form was "
                "opened, so your changes were not saved."
            )
        )
        if deleted:
            return deleted
        activity = self.get_activity()
        form = ActivityForm(request.POST, instance=activity)
        formsets = self._formsets(activity, data=request.POST)
        if not (form.is_valid() and all(fs.is_valid() for fs in formsets.values())):
            return self._render(activity, form, formsets, status=400)

        data = ActivityData(
            fields={name: form.cleaned_data[name] for name in form.Meta.fields},
            parts={part: _formset_rows(fs) for part, fs in formsets.items()},
        )
        try:
            saved = activity_save(
                data=data,
                actor=request.user,
                activity=ProcessingActivity.objects.get(pk=activity.pk)
                if activity
                else None,
                loaded_version=form.cleaned_data["loaded_version"],
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                target = name if name in form.fields else None
                # A part's errors go above the form, after the part's title.
                title = PART_TITLES.get(name)
                for message in errors:
                    form.add_error(
                        target, labelled(title, message) if title else message
                    )
            return self._render(activity, form, formsets, status=400)

        messages.success(
            request,
            _("Activity %(reference)s saved.") % {"reference": saved.reference},
        )
        return redirect("register:activity-detail", pk=saved.pk)

    def _deleted_redirect(self, message: str):
        """Return a redirect to the history of a deleted activity, with
        ``message``, or None if the activity was not deleted."""
        if "pk" not in self.kwargs:
            return None
        deleted = deleted_activity(user=self.request.user, pk=self.kwargs["pk"])
        if deleted is None:
            return None
        activity, deleted_at = deleted
        messages.error(
            self.request,
            message
            % {"reference": activity.reference, "when": format_datetime(deleted_at)},
        )
        return redirect("register:activity-history", pk=self.kwargs["pk"])

    def _formsets(self, activity, data=None):
        user = self.request.user
        return {
            part: formset_class(
                data=data,
                instance=activity or ProcessingActivity(),
                prefix=part,
                can_add=part_permitted(user=user, part=part, action="add"),
                can_delete=part_permitted(user=user, part=part, action="delete"),
            )
            for part, formset_class in PART_FORMSETS.items()
        }

    def _render(self, activity, form, formsets, status=200):
        context = {
            "activity": activity,
            "form": form,
            "formsets": [
                (part, PART_TITLES[part], formset) for part, formset in formsets.items()
            ],
            "terms": reference_terms(),
        }
        return render(self.request, self.template_name, context, status=status)


def _formset_rows(formset) -> list[dict]:
    rows = []
    for form in formset.forms:
        if not form.has_changed() and form.instance.pk is None:
            continue
        if form.cleaned_data.get("DELETE"):
            continue
        values = {
            name: value
            for name, value in form.cleaned_data.items()
            if name not in ("id", "DELETE", "activity")
        }
        instance = form.cleaned_data.get("id")
        # The service updates the row with this id instead of adding a new one.
        values["id"] = instance.pk if instance else None
        rows.append(values)
    return rows


class ActivityDeleteView(RolePermissionMixin, View):
    """Confirm, then delete a draft activity that nothing refers to."""

    permission_required = "register.delete_processingactivity"
    template_name = "register/activity_confirm_delete.html"

    def _activity(self, pk) -> ProcessingActivity:
        activity = activity_visible_to(user=self.request.user).filter(pk=pk).first()
        if activity is None:
            raise Http404(_("No such processing activity."))
        return activity

    def get(self, request, pk):
        activity = self._activity(pk)
        deletable = (
            activity.status == ProcessingActivity.Status.DRAFT
            and not activity.has_left_draft()
        )
        context = {"activity": activity, "deletable": deletable}
        return render(request, self.template_name, context)

    def post(self, request, pk):
        activity = self._activity(pk)
        try:
            activity_delete(activity=activity, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("register:activity-detail", pk=activity.pk)
        messages.success(
            request,
            _("Draft activity %(reference)s deleted.")
            % {"reference": activity.reference},
        )
        if request.user.has_perm("register.view_whole_register"):
            # The history page shows the deleted draft's versions.
            return redirect("register:activity-history", pk=pk)
        return redirect("register:activity-list")


class RegisterExportView(RolePermissionMixin, View):
    """Download the register, the activities a filtered list shows, or one activity.

    The list's filters come in the query string, as on the list page: the
    processor's record (Art. 30(2)) is ``?role=processor``.
    """

    permission_required = "register.export_register"

    def get(self, request, file_format, pk=None):
        if file_format not in FORMATS:
            raise Http404(_("Unknown export format."))
        pks = None
        role = ""
        extract = False
        if pk is None and request.GET:
            form = ActivityFilterForm(request.GET)
            if not form.is_valid():
                return HttpResponseBadRequest(
                    _("The register's filters are invalid: %(errors)s")
                    % {"errors": form.errors.as_text()},
                    content_type="text/plain; charset=utf-8",
                )
            pks = [
                activity.pk
                for activity in activity_list(
                    user=request.user, filters=form.cleaned_data
                )
            ]
            role = form.cleaned_data["role"]
            extract = any(
                value for name, value in form.cleaned_data.items() if name != "role"
            )
        activities = list(activities_for_export(user=request.user, pk=pk, pks=pks))
        if pk is not None and not activities:
            raise Http404(_("No such processing activity."))
        # The list filtered on the processor role is the processor's record
        # (Art. 30(2)), even while it has no activity.
        processor_record = role == ProcessingActivity.Role.PROCESSOR or (
            is_processor_record(activities)
        )

        try:
            content = register_export(
                activities=activities,
                file_format=file_format,
                actor=request.user,
                processor_record=processor_record,
            )
        except ExportError as error:
            return HttpResponseBadRequest(
                str(error), content_type="text/plain; charset=utf-8"
            )
        name = export_filename(
            file_format=file_format,
            activity=activities[0] if pk else None,
            processor_record=processor_record,
            extract=extract,
        )
        response = HttpResponse(content, content_type=FORMATS[file_format][0])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class RegisterImportView(RolePermissionMixin, View):
    """Upload a register file, preview the dry run, then confirm or cancel."""

    permission_required = "register.import_register"
    template_name = "register/import.html"

    def get(self, request):
        return render(request, self.template_name, {"form": RegisterImportForm()})

    def post(self, request):
        action = request.POST.get("action", "preview")
        if action == "preview":
            return self._preview(request)
        staged = request.session.get(IMPORT_SESSION_KEY)
        if not staged or staged.get("token") != request.POST.get("token"):
            messages.error(
                request,
                _("This import preview has expired; upload the file again."),
            )
            return redirect("register:import")
        path = staged_file_path(staged.get("stored_name", ""))
        try:
            if action == "confirm":
                confirmation = _confirmation(request, staged)
                return self._confirm(request, path, staged["file_name"], confirmation)
            messages.info(request, _("Import cancelled; nothing was changed."))
            return redirect("register:import")
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
            request.session.pop(IMPORT_SESSION_KEY, None)

    def _preview(self, request):
        form = RegisterImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        staged_files_purge()
        token = secrets.token_hex(16)
        path = staged_file_write(upload=upload, suffix=suffix)

        report = register_import(
            path=path, file_name=upload.name, actor=request.user, dry_run=True
        )
        if report.has_errors:
            path.unlink(missing_ok=True)
        else:
            request.session[IMPORT_SESSION_KEY] = {
                "token": token,
                "stored_name": path.name,
                "file_name": upload.name,
                # The version of each activity changed after the export, as
                # the preview showed it, so that a confirmed overwrite does not
                # undo a save made after the preview.
                "versions": {
                    entry["reference"]: entry["version"]
                    for entry in report.activities
                    if entry["changed_after_export"]
                },
            }
        context = {"form": RegisterImportForm(), "report": report, "token": token}
        return render(request, self.template_name, context)

    def _confirm(
        self,
        request,
        path: Path | None,
        file_name: str,
        confirmation: ImportConfirmation,
    ):
        if path is None or not path.exists():
            messages.error(
                request, _("The uploaded file is gone; upload the file again.")
            )
            return redirect("register:import")
        with transaction.atomic():
            report = register_import(
                path=path,
                file_name=file_name,
                actor=request.user,
                dry_run=False,
                confirmation=confirmation,
            )
        if report.has_errors:
            return render(
                request,
                self.template_name,
                {"form": RegisterImportForm(), "report": report},
                status=400,
            )
        messages.success(
            request,
            ngettext(
                "Register imported: %(count)d activity read.",
                "Register imported: %(count)d activities read.",
                len(report.activities),
            )
            % {"count": len(report.activities)},
        )
        skipped = [
            entry["reference"]
            for entry in report.activities
            if entry["outcome"] == "skipped"
        ]
        if skipped:
            messages.warning(
                request,
                _(
                    "Not imported, because they were changed in Registre after "
                    "the file was exported, or the file does not say when it was "
                    "exported: %(references)s. Import the file again and tick "
                    "them to replace those changes."
                )
                % {"references": ", ".join(skipped)},
            )
        return redirect(reverse("register:activity-list"))


def _confirmation(request, staged: dict) -> ImportConfirmation:
    """Read the overwrites and removals that the user ticked in the preview."""
    versions = staged.get("versions", {})
    return ImportConfirmation(
        overwrite={
            reference: versions[reference]
            for reference in request.POST.getlist("overwrite")
            if reference in versions
        },
        remove_missing=frozenset(request.POST.getlist("remove_missing")),
    )


class ReferenceTermListView(RolePermissionMixin, View):
    """The editable reference lists that the activity forms suggest."""

    permission_required = "register.view_referenceterm"
    template_name = "register/reference_terms.html"

    def get(self, request, form=None, status=200):
        terms = ReferenceTerm.objects.all()
        lists = [
            (label, [term for term in terms if term.kind == kind])
            for kind, label in ReferenceTerm.Kind.choices
        ]
        context = {
            "lists": lists,
            "form": form or ReferenceTermForm(),
            "can_change": request.user.has_perm("register.add_referenceterm"),
            "can_delete": request.user.has_perm("register.delete_referenceterm"),
        }
        return render(request, self.template_name, context, status=status)

    def post(self, request):
        if "delete" in request.POST:
            return self._delete(request)
        if not request.user.has_perm("register.add_referenceterm"):
            raise PermissionDenied
        form = ReferenceTermForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        try:
            reference_term_add(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
            return self.get(request, form=form, status=400)
        messages.success(request, _("Entry added to the list."))
        return redirect("register:reference-terms")

    def _delete(self, request):
        if not request.user.has_perm("register.delete_referenceterm"):
            raise PermissionDenied
        term_id = request.POST.get("delete", "")
        term = None
        if term_id.isdigit():
            term = ReferenceTerm.objects.filter(pk=int(term_id)).first()
        if term is None:
            raise Http404(_("No such list entry."))
        reference_term_delete(term=term, actor=request.user)
        messages.success(request, _("Entry removed from the list."))
        return redirect("register:reference-terms")


class ActivityNoticeView(TemplateView):
    """The public notice of an activity (GDPR Art. 13 and 14): no login.

    Campaign messages link to it. Its URL carries the activity's notice token
    rather than its id, so that a visitor cannot read every notice by
    counting ids. Only an activity with ``has_public_notice`` has one.
    """

    template_name = "register/notice.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = ProcessingActivity.objects.filter(
            notice_token=self.kwargs["token"]
        ).first()
        if activity is None or not activity.has_public_notice:
            raise Http404
        context.update(activity_notice(activity))
        return context
