from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView
from django.views.generic import ListView
from django.views.generic import TemplateView

from apps.contacts.models import Contact
from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.core.permissions import RolePermissionMixin
from apps.core.submissions import DuplicateSubmission
from apps.core.submissions import duplicate_submission_redirect
from apps.core.submissions import submitted_once
from apps.core.text import labelled
from apps.subject_requests import forms
from apps.subject_requests import labels
from apps.subject_requests import services
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.record import request_record_pdf
from apps.subject_requests.selectors import days_late
from apps.subject_requests.selectors import days_left
from apps.subject_requests.selectors import extension_notices
from apps.subject_requests.selectors import identity_checks
from apps.subject_requests.selectors import request_list
from apps.subject_requests.selectors import request_timeline

VIEW_PERMISSION = "subject_requests.view_subjectrequest"
CHANGE_PERMISSION = "subject_requests.change_subjectrequest"


class RequestListView(RolePermissionMixin, ListView):
    permission_required = VIEW_PERMISSION
    template_name = "subject_requests/request_list.html"
    context_object_name = "requests"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.filter_form = forms.RequestFilterForm(request.GET)
        if not self.filter_form.is_valid():
            self.object_list = SubjectRequest.objects.none()
            context = self.get_context_data()
            return self.render_to_response(context, status=400)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = self.filter_form.cleaned_data
        return request_list(status=filters["status"], query=filters["q"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for item in context["requests"]:
            item.days_left = days_left(item)
            item.days_overdue = -item.days_left
            item.days_late = days_late(item)
        form = self.filter_form
        context["filter_errors"] = [
            labels.label_value(form.fields[name].label, error)
            for name, errors in form.errors.items()
            for error in errors
        ]
        context["status"] = form.cleaned_data.get("status", "open")
        context["query"] = form.cleaned_data.get(
            "q", form.data.get("q", "").replace("\x00", "")
        )
        context["statuses"] = form.fields["status"].choices
        context["can_add"] = self.request.user.has_perm(
            "subject_requests.add_subjectrequest"
        )
        return context


class RequestCreateView(RolePermissionMixin, FormView):
    permission_required = "subject_requests.add_subjectrequest"
    template_name = "subject_requests/request_form.html"
    form_class = forms.RequestCreateForm

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        token = data.pop("submission_token")
        try:
            with submitted_once(token, user=self.request.user) as recorded:
                created = services.request_create(handler=self.request.user, **data)
                recorded(reverse("subject_requests:request-detail", args=[created.pk]))
        except DuplicateSubmission as duplicate:
            return duplicate_submission_redirect(
                self.request, duplicate, "subject_requests:request-list"
            )
        except services.RequestError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Request %(ref)s recorded; it is due on %(date)s.")
            % {"ref": created.reference, "date": format_date(created.due_on)},
        )
        return redirect("subject_requests:request-detail", pk=created.pk)


# The permission each linked page needs. A match of another kind, or one the
# user lacks the permission for, is shown as plain text instead of a link that
# would return 403.
MATCH_URL_PERMISSIONS = {
    "contact": "contacts.view_contact",
    "import_source_file": "imports.view_importjob",
    "subject_request": VIEW_PERMISSION,
}


def _match_url(match: dict, user) -> str:
    permission = MATCH_URL_PERMISSIONS.get(match["kind"])
    if not match.get("url") or permission is None:
        return ""
    return match["url"] if user.has_perm(permission) else ""


def _match_rows(request_obj: SubjectRequest, user) -> list[dict]:
    """Return the last search's matches, with contact labels read live."""
    matches = request_obj.last_search.get("matches", [])
    contact_ids = [m["record_id"] for m in matches if m["kind"] == "contact"]
    show_names = user.has_perm(MATCH_URL_PERMISSIONS["contact"])
    contacts = Contact.objects.in_bulk(contact_ids) if show_names else {}
    linked = set(request_obj.contacts.values_list("pk", flat=True))
    set_aside = services.set_aside_contact_ids(request_obj)
    anonymised = services.anonymised_contact_ids(contact_ids=contact_ids)
    rows = []
    for match in matches:
        contact = (
            contacts.get(match["record_id"]) if match["kind"] == "contact" else None
        )
        label = ""
        if contact is not None:
            label = " · ".join(
                part
                for part in (contact.full_name, contact.email, contact.company)
                if part
            )
        rows.append(
            {
                **match,
                "url": _match_url(match, user),
                "kind_label": labels.record_kind_label(match["kind"]),
                "matched_on_label": labels.matched_on_label(match["matched_on"]),
                "label": label,
                "linked": match["kind"] == "contact" and match["record_id"] in linked,
                "set_aside": match["kind"] == "contact"
                and match["record_id"] in set_aside,
                "anonymised": match["kind"] == "contact"
                and match["record_id"] in anonymised,
            }
        )
    return rows


def _proof_rows(request_obj: SubjectRequest) -> list:
    proofs = list(request_obj.erasure_proofs.select_related("erased_by"))
    for proof in proofs:
        proof.counts_label = labels.record_counts_text(proof.record_counts)
        proof.suppression_label = labels.suppression_text(
            kinds=proof.suppression_kinds,
            counts=proof.suppression_counts,
            added=proof.suppression_added,
        )
    return proofs


def _erasure_contacts(request_obj: SubjectRequest, user) -> list[str]:
    """Return the contacts an erasure of the request would delete, as labels.

    Users who may not view contacts see their ids only.
    """
    if request_obj.kind != SubjectRequest.Kind.ERASURE or not request_obj.is_open:
        return []
    show_names = user.has_perm(MATCH_URL_PERMISSIONS["contact"])
    return [
        f"#{contact.pk} {contact.full_name}".strip() if show_names else f"#{contact.pk}"
        for contact in services.erasure_contacts(request_obj)
    ]


def _shared_holders(request_obj: SubjectRequest) -> int:
    """Count the contacts that share a generic e-mail or a phone with the
    person, for the warning above the erasure or objection button."""
    if not request_obj.is_open:
        return 0
    if request_obj.kind == SubjectRequest.Kind.ERASURE:
        return services.erasure_shared_holders(request_obj)
    if request_obj.kind == SubjectRequest.Kind.OBJECTION:
        return services.objection_shared_holders(request_obj)
    return 0


def _link_choice_label(match: dict) -> str:
    """Return a contact's label for the link form, flagging a name-only match.

    A homonym shares the name but not the identifiers, and linking it would
    erase or disclose another person's record.
    """
    label = match["label"] or f"#{match['record_id']}"
    if match["matched_on"] == "name":
        return _("%(label)s (name only: check it is the same person)") % {
            "label": label
        }
    return _("%(label)s (matched on %(matched_on)s)") % {
        "label": label,
        "matched_on": match["matched_on_label"],
    }


class RequestDetailView(RolePermissionMixin, TemplateView):
    permission_required = VIEW_PERMISSION
    template_name = "subject_requests/request_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request_obj = get_object_or_404(
            SubjectRequest.objects.select_related("handler"), pk=kwargs["pk"]
        )
        user = self.request.user
        contacts = list(
            request_obj.contacts.select_related("processing_activity").order_by("pk")
        )
        matches = _match_rows(request_obj, user)
        link_choices = [
            (m["record_id"], _link_choice_label(m))
            for m in matches
            if m["kind"] == "contact" and not m["linked"] and not m["anonymised"]
        ]
        now_input = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        context.update(
            {
                "req": request_obj,
                "days_left": days_left(request_obj),
                "days_overdue": -days_left(request_obj),
                "days_late": days_late(request_obj),
                "contacts": contacts,
                "show_contact_data": user.has_perm("contacts.view_contact"),
                "matches": matches,
                # Found contacts that no response covers yet: the access
                # package and the portability data contain linked contacts only.
                "undecided_count": sum(
                    1
                    for m in matches
                    if m["kind"] == "contact"
                    and not (m["linked"] or m["set_aside"] or m["anonymised"])
                ),
                "search": request_obj.last_search,
                "search_summary": labels.search_summary(request_obj.last_search)
                if request_obj.last_search.get("sources")
                else None,
                "timeline": [
                    (event, labels.event_details_text(event.details))
                    for event in request_timeline(request_obj)
                ],
                "extension_notices": extension_notices(request_obj),
                "identity_checks": list(identity_checks(request_obj)),
                "proofs": _proof_rows(request_obj),
                "can_change": user.has_perm(CHANGE_PERMISSION) and request_obj.is_open,
                "identity_form": forms.IdentityForm(auto_id="identity_%s"),
                "extend_form": forms.ExtendForm(
                    auto_id="extend_%s", initial={"informed_by": request_obj.channel}
                ),
                "link_form": forms.LinkForm(
                    contact_choices=link_choices, auto_id="link_%s"
                ),
                "close_form": forms.CloseForm(
                    auto_id="close_%s", initial={"response_sent_at": now_input}
                ),
                "refuse_form": forms.RefuseForm(
                    auto_id="refuse_%s", initial={"response_sent_at": now_input}
                ),
                "package_form": forms.PackageForm(auto_id="package_%s"),
                "portability_form": forms.PackageForm(auto_id="portability_%s"),
                "erase_form": forms.EraseForm(auto_id="erase_%s"),
                "lift_form": forms.LiftRestrictionForm(
                    auto_id="lift_%s",
                    initial={
                        "informed_on": timezone.localdate(),
                        "informed_by": request_obj.channel,
                    },
                ),
                "erasure_contacts": _erasure_contacts(request_obj, user),
                "shared_holders": _shared_holders(request_obj),
                "verified": request_obj.identity_status
                == SubjectRequest.IdentityStatus.VERIFIED,
                "answers": services.request_answers(request_obj),
            }
        )
        return context


class RecordView(RolePermissionMixin, View):
    """The request's record as a PDF: request, deadline, outcome, proofs, timeline."""

    permission_required = VIEW_PERMISSION

    def get(self, request, pk):
        request_obj = get_object_or_404(SubjectRequest, pk=pk)
        data = request_record_pdf(request_obj)
        audit_record(
            action="subject_requests.record.downloaded",
            actor=request.user,
            target=request_obj,
            details={"format": "pdf"},
        )
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{request_obj.reference}-record.pdf"'
        )
        response["Cache-Control"] = "no-store"
        return response


class RequestActionView(RolePermissionMixin, View):
    """A POST-only action of the DPO on one request: parse, call, redirect."""

    permission_required = CHANGE_PERMISSION
    form_class = None

    def get_form_kwargs(self, request_obj):
        return {}

    def post(self, request, pk, **kwargs):
        request_obj = get_object_or_404(SubjectRequest, pk=pk)
        form = None
        if self.form_class is not None:
            form = self.form_class(request.POST, **self.get_form_kwargs(request_obj))
            if not form.is_valid():
                for field, errors in form.errors.items():
                    label = form.fields[field].label if field in form.fields else ""
                    for error in errors:
                        messages.error(
                            request, labelled(label, error) if label else error
                        )
                return redirect("subject_requests:request-detail", pk=pk)
        try:
            response = self.perform(request_obj, form, **kwargs)
        except services.RequestError as error:
            messages.error(request, str(error))
            return redirect("subject_requests:request-detail", pk=pk)
        return response or redirect("subject_requests:request-detail", pk=pk)

    def perform(self, request_obj, form, **kwargs):
        raise NotImplementedError


class IdentityView(RequestActionView):
    form_class = forms.IdentityForm

    def perform(self, request_obj, form, **kwargs):
        services.request_verify_identity(
            request=request_obj, actor=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Identity check recorded."))


class ExtendView(RequestActionView):
    form_class = forms.ExtendForm

    def perform(self, request_obj, form, **kwargs):
        services.request_extend(
            request=request_obj, actor=self.request.user, **form.cleaned_data
        )
        messages.success(
            self.request,
            _("Deadline extended to %(date)s.")
            % {"date": format_date(request_obj.due_on)},
        )


class SearchView(RequestActionView):
    def perform(self, request_obj, form, **kwargs):
        result = services.request_search(request=request_obj, actor=self.request.user)
        messages.success(
            self.request,
            ngettext(
                "Searched %(sources)s: %(count)s record matched.",
                "Searched %(sources)s: %(count)s records matched.",
                len(result["matches"]),
            )
            % {
                "sources": labels.search_summary(result)["sources"],
                "count": len(result["matches"]),
            },
        )


class LinkView(RequestActionView):
    form_class = forms.LinkForm

    def get_form_kwargs(self, request_obj):
        ids = [
            m["record_id"]
            for m in request_obj.last_search.get("matches", [])
            if m["kind"] == "contact"
        ]
        return {"contact_choices": [(pk, pk) for pk in ids]}

    def perform(self, request_obj, form, **kwargs):
        contact_ids = form.cleaned_data["contact_ids"]
        if self.request.POST.get("action") == "set_aside":
            count = services.request_set_aside_contacts(
                request=request_obj, contact_ids=contact_ids, actor=self.request.user
            )
            message = ngettext(
                "%(count)s contact set aside as someone else's.",
                "%(count)s contacts set aside as someone else's.",
                count,
            )
        else:
            count = services.request_link_contacts(
                request=request_obj, contact_ids=contact_ids, actor=self.request.user
            )
            message = ngettext(
                "%(count)s contact linked.", "%(count)s contacts linked.", count
            )
        messages.success(self.request, message % {"count": count})


class UnlinkView(RequestActionView):
    def perform(self, request_obj, form, contact_id, **kwargs):
        services.request_unlink_contact(
            request=request_obj, contact_id=contact_id, actor=self.request.user
        )
        messages.success(self.request, _("Contact unlinked."))


class PackageView(RequestActionView):
    form_class = forms.PackageForm
    portability = False

    def perform(self, request_obj, form, **kwargs):
        data = services.request_build_package(
            request=request_obj,
            actor=self.request.user,
            portability=self.portability,
            language=form.cleaned_data["language"],
        )
        suffix = "portability" if self.portability else "access"
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="{request_obj.reference}-{suffix}.zip"'
        )
        response["Cache-Control"] = "no-store"
        return response


class RectifyView(RolePermissionMixin, FormView):
    permission_required = CHANGE_PERMISSION
    template_name = "subject_requests/rectify_form.html"

    # Looked up once the permission is checked, so that a user without it
    # cannot tell from a 404 which contacts are under an open request.
    @cached_property
    def request_obj(self):
        # Only an open rectification request offers the form; the service
        # rejects a rectification under any other request too.
        return get_object_or_404(
            SubjectRequest.objects.filter(
                kind=SubjectRequest.Kind.RECTIFICATION,
                status__in=SubjectRequest.OPEN_STATUSES,
            ),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def contact(self):
        return get_object_or_404(
            self.request_obj.contacts, pk=self.kwargs["contact_id"]
        )

    def get_form(self, form_class=None):
        return forms.RectifyForm(contact=self.contact, **self.get_form_kwargs())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["req"] = self.request_obj
        context["contact"] = self.contact
        return context

    def form_valid(self, form):
        try:
            changed = services.request_rectify(
                request=self.request_obj,
                contact_id=self.contact.pk,
                changes=form.cleaned_data,
                actor=self.request.user,
            )
        except services.RequestError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Rectified fields: %(fields)s.")
            % {
                "fields": ", ".join(labels.contact_field_label(f) for f in changed)
                or "-"
            },
        )
        return redirect("subject_requests:request-detail", pk=self.request_obj.pk)


class RectifyNotNeededView(RequestActionView):
    def perform(self, request_obj, form, contact_id, **kwargs):
        services.request_rectify_not_needed(
            request=request_obj, contact_id=contact_id, actor=self.request.user
        )
        messages.success(
            self.request,
            _("Contact #%(id)s recorded as accurate: it needs no change.")
            % {"id": contact_id},
        )


class RestrictView(RequestActionView):
    def perform(self, request_obj, form, **kwargs):
        count = services.request_restrict(request=request_obj, actor=self.request.user)
        messages.success(
            self.request,
            ngettext(
                "%(count)s contact restricted.", "%(count)s contacts restricted.", count
            )
            % {"count": count},
        )


class LiftRestrictionView(RequestActionView):
    form_class = forms.LiftRestrictionForm

    def perform(self, request_obj, form, **kwargs):
        count = services.request_lift_restriction(
            request=request_obj, actor=self.request.user, **form.cleaned_data
        )
        messages.success(
            self.request,
            ngettext(
                "Restriction lifted on %(count)s contact.",
                "Restriction lifted on %(count)s contacts.",
                count,
            )
            % {"count": count},
        )


class ObjectView(RequestActionView):
    def perform(self, request_obj, form, **kwargs):
        grant = services.request_object(request=request_obj, actor=self.request.user)
        contacts = ngettext(
            "%(count)s contact marked objected",
            "%(count)s contacts marked objected",
            grant.contact_count,
        ) % {"count": grant.contact_count}
        identifiers = ngettext(
            "%(count)s identifier added to the suppression list",
            "%(count)s identifiers added to the suppression list",
            grant.suppression_added,
        ) % {"count": grant.suppression_added}
        messages.success(
            self.request,
            _("Objection granted: %(contacts)s, %(identifiers)s.")
            % {"contacts": contacts, "identifiers": identifiers},
        )


class EraseView(RequestActionView):
    form_class = forms.EraseForm

    def perform(self, request_obj, form, **kwargs):
        proof = services.request_erase(request=request_obj, actor=self.request.user)
        messages.success(
            self.request,
            ngettext(
                "Erased %(count)s record; the proof of erasure is recorded.",
                "Erased %(count)s records; the proof of erasure is recorded.",
                proof.total,
            )
            % {"count": proof.total},
        )


class CloseView(RequestActionView):
    form_class = forms.CloseForm

    def perform(self, request_obj, form, **kwargs):
        services.request_close(
            request=request_obj, actor=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Request closed."))


class RefuseView(RequestActionView):
    form_class = forms.RefuseForm

    def perform(self, request_obj, form, **kwargs):
        services.request_refuse(
            request=request_obj, actor=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Request refused."))
