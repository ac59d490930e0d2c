import logging

from django.contrib import messages
from django.core import signing
from django.http import FileResponse
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView
from django.views.generic import ListView
from django.views.generic import TemplateView

from apps.contacts.campaigns import NothingToExport
from apps.contacts.campaigns import campaign_export_file_open
from apps.contacts.campaigns import campaign_export_path
from apps.contacts.campaigns import campaign_export_request
from apps.contacts.campaigns import campaign_export_withdrawn_ids
from apps.contacts.forms import CampaignExportForm
from apps.contacts.forms import ContactFilterForm
from apps.contacts.models import CampaignExport
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.contacts.selectors import HIGH_OPT_OUT_RATE
from apps.contacts.selectors import InvalidQuery
from apps.contacts.selectors import campaign_export_filters
from apps.contacts.selectors import contact_audit_events
from apps.contacts.selectors import contact_campaign_exports
from apps.contacts.selectors import contact_count_bounded
from apps.contacts.selectors import contact_count_limit
from apps.contacts.selectors import contact_detail
from apps.contacts.selectors import contact_list_statistics
from apps.contacts.selectors import contact_page
from apps.contacts.selectors import contact_provenances
from apps.contacts.selectors import contact_segment
from apps.contacts.selectors import opt_out_rate
from apps.contacts.selectors import vendor_statistics
from apps.contacts.services import UnsubscribeLink
from apps.contacts.services import WithdrawalSource
from apps.contacts.services import contact_contactability
from apps.contacts.services import contact_page_unsubscribe_url
from apps.contacts.services import contact_unsubscribe
from apps.contacts.services import unsubscribe_hash_suppress
from apps.contacts.services import unsubscribe_link_read
from apps.contacts.suppression import suppressed_hashes
from apps.core.permissions import RolePermissionMixin
from apps.core.submissions import DuplicateSubmission
from apps.core.submissions import duplicate_submission_redirect
from apps.core.submissions import submitted_once
from apps.retention.limits import contact_retention

logger = logging.getLogger(__name__)


def _filters_from(request) -> tuple[ContactFilterForm, dict, str]:
    """Return the bound filter form, its cleaned data and the filter query string."""
    form = ContactFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    return form, filters, query.urlencode()


class ContactListView(RolePermissionMixin, TemplateView):
    permission_required = "contacts.view_contact"
    template_name = "contacts/contact_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, filters, query_string = _filters_from(self.request)
        context.update(form=form, query_string=query_string, page=None)
        if form.is_bound and not form.is_valid():
            return context
        try:
            segment = contact_segment(filters=filters)
            page = contact_page(
                segment,
                sort=filters.get("sort") or "newest",
                after=self.request.GET.get("after", ""),
                before=self.request.GET.get("before", ""),
            )
        except InvalidQuery as error:
            context["search_error"] = str(error)
            return context
        count, more = contact_count_bounded(segment, limit=contact_count_limit(filters))
        context.update(
            page=page,
            count=count,
            count_more=more,
            first_page=page.is_first,
            can_export=self.request.user.has_perm("contacts.export_campaign"),
        )
        return context


class ContactDetailView(RolePermissionMixin, TemplateView):
    permission_required = "contacts.view_contact"
    template_name = "contacts/contact_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            contact = contact_detail(contact_id=kwargs["pk"])
        except Contact.DoesNotExist as error:
            raise Http404(
                _("No contact has id %(id)s.") % {"id": kwargs["pk"]}
            ) from error
        context.update(
            contact=contact,
            verdict=contact_contactability(contact),
            retention=contact_retention(contact),
            provenances=contact_provenances(contact),
            consents=contact.consents.all(),
            audit_events=contact_audit_events(contact, user=self.request.user)[:100],
            exports=contact_campaign_exports(contact),
            anonymised=contact.status == Contact.Status.ANONYMISED,
            unsubscribe_url=contact_page_unsubscribe_url(
                contact, site_url=self.request.build_absolute_uri("/").rstrip("/")
            ),
        )
        return context


class VendorListView(RolePermissionMixin, ListView):
    permission_required = "contacts.view_vendor"
    template_name = "contacts/vendor_list.html"
    context_object_name = "vendors"

    def get_queryset(self):
        return vendor_statistics()


class VendorDetailView(RolePermissionMixin, DetailView):
    permission_required = "contacts.view_vendor"
    template_name = "contacts/vendor_detail.html"
    model = Vendor
    context_object_name = "vendor"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lists = contact_list_statistics(self.object.lists.all())
        context["lists"] = [(item, opt_out_rate(item)) for item in lists]
        context["today"] = timezone.localdate()
        context["high_rate"] = HIGH_OPT_OUT_RATE
        return context


class ContactListListView(RolePermissionMixin, ListView):
    permission_required = "contacts.view_contactlist"
    template_name = "contacts/contactlist_list.html"
    context_object_name = "lists"

    def get_queryset(self):
        return contact_list_statistics(ContactList.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [(item, opt_out_rate(item)) for item in context["lists"]]
        context["today"] = timezone.localdate()
        context["high_rate"] = HIGH_OPT_OUT_RATE
        return context


class ContactListDetailView(RolePermissionMixin, DetailView):
    permission_required = "contacts.view_contactlist"
    template_name = "contacts/contactlist_detail.html"
    context_object_name = "contact_list"

    def get_queryset(self):
        return contact_list_statistics(ContactList.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rate"] = opt_out_rate(self.object)
        context["today"] = timezone.localdate()
        context["high_rate"] = HIGH_OPT_OUT_RATE
        context["can_view_contacts"] = self.request.user.has_perm(
            "contacts.view_contact"
        )
        return context


class CampaignExportCreateView(RolePermissionMixin, TemplateView):
    """Confirm a segment's export options, then write the file (POST)."""

    permission_required = ("contacts.view_contact", "contacts.export_campaign")
    template_name = "contacts/campaign_create.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filter_form, filters, query_string = _filters_from(self.request)
        context.update(
            filter_form=filter_form,
            filters=filters,
            query_string=query_string,
            form=kwargs.get("form")
            or CampaignExportForm(initial={"language": translation.get_language()}),
        )
        if filter_form.is_bound and not filter_form.is_valid():
            problems = " ".join(
                str(message)
                for messages_of_field in filter_form.errors.values()
                for message in messages_of_field
            )
            context["search_error"] = _(
                "Fix the filters on the contact list first. %(problems)s"
            ) % {"problems": problems}
            return context
        try:
            segment = contact_segment(filters=filters)
        except InvalidQuery as error:
            context["search_error"] = str(error)
            return context
        context["count"], context["count_more"] = contact_count_bounded(
            segment, limit=contact_count_limit(filters)
        )
        return context

    def post(self, request, *args, **kwargs):
        form = CampaignExportForm(request.POST)
        filter_form, filters, _query = _filters_from(request)
        if not form.is_valid() or (filter_form.is_bound and not filter_form.is_valid()):
            return self.render_to_response(self.get_context_data(form=form))
        try:
            token = form.cleaned_data["submission_token"]
            with submitted_once(token, user=request.user) as created:
                export = campaign_export_request(
                    filters=filters,
                    file_format=form.cleaned_data["file_format"],
                    records_notice=form.cleaned_data["records_notice"],
                    records_message_date=form.cleaned_data["records_message_date"],
                    actor=request.user,
                    language=form.cleaned_data["language"] or None,
                )
                created(reverse("contacts:campaign-detail", args=[export.pk]))
        except DuplicateSubmission as duplicate:
            return duplicate_submission_redirect(
                request, duplicate, "contacts:campaign-list"
            )
        except (InvalidQuery, NothingToExport) as error:
            messages.error(request, str(error))
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(
            request,
            _(
                "Campaign export #%(id)s is queued. This page shows when its file "
                "is ready to download."
            )
            % {"id": export.pk},
        )
        return redirect("contacts:campaign-detail", pk=export.pk)


class CampaignExportListView(RolePermissionMixin, ListView):
    permission_required = "contacts.view_campaignexport"
    template_name = "contacts/campaign_list.html"
    context_object_name = "exports"
    paginate_by = 50

    def get_queryset(self):
        return CampaignExport.objects.select_related("created_by")


class CampaignExportDetailView(RolePermissionMixin, DetailView):
    permission_required = "contacts.view_campaignexport"
    template_name = "contacts/campaign_detail.html"
    model = CampaignExport
    context_object_name = "export"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_download"] = self.request.user.has_perm("contacts.export_campaign")
        context["segment_filters"] = campaign_export_filters(self.object)
        if self.object.status == CampaignExport.Status.DONE:
            context["withdrawn_count"] = len(campaign_export_withdrawn_ids(self.object))
            # An erasure removes the person's row from the kept file and their
            # entry from the export's list of contacts.
            context["erased_count"] = max(
                0, self.object.row_count - self.object.contact_rows.count()
            )
        return context


class CampaignExportDownloadView(RolePermissionMixin, View):
    permission_required = "contacts.export_campaign"

    def get(self, request, pk):
        export = get_object_or_404(CampaignExport, pk=pk)
        path = campaign_export_path(export)
        if export.status != CampaignExport.Status.DONE:
            raise Http404(
                _("Campaign export %(id)s has no file yet: its status is %(status)s.")
                % {"id": pk, "status": export.get_status_display()}
            )
        if export.file_deleted_at or not path.exists():
            raise Http404(
                _("The file of campaign export %(id)s was deleted.") % {"id": pk}
            )
        stream, left_out = campaign_export_file_open(export)
        if left_out:
            logger.info(
                "campaign export %s downloaded without %s withdrawn contacts",
                export.pk,
                left_out,
            )
        return FileResponse(stream, as_attachment=True, filename=path.name)


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """The public unsubscribe link of one contact: no login, no cookie, no CSRF.

    GET shows a confirmation button. POST unsubscribes, both from that button
    and from a mail client's RFC 8058 one-click request, whose body is
    ``List-Unsubscribe=One-Click``. The signed token is the only credential,
    so CSRF protection would add nothing and would break one-click.
    """

    def _link(self, token: str) -> UnsubscribeLink:
        try:
            return unsubscribe_link_read(token)
        except signing.BadSignature as error:
            logger.warning("unsubscribe with an invalid token rejected")
            raise Http404(_("This unsubscribe link is invalid.")) from error

    def get(self, request, token):
        link = self._link(token)
        if link.email_hash and suppressed_hashes([link.email_hash]):
            # Opened again after unsubscribing: nothing is left to confirm.
            return render(request, "contacts/unsubscribe_done.html")
        return render(request, "contacts/unsubscribe_confirm.html", {"token": token})

    def post(self, request, token):
        link = self._link(token)
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        source = WithdrawalSource.ONE_CLICK if one_click else WithdrawalSource.LINK
        contact = Contact.objects.filter(pk=link.contact_id).first()
        address_changed = bool(
            contact is not None
            and contact.email
            and link.email_hash
            and link.email_hash != contact.email_hash
        )
        if contact is None or not contact.email or address_changed:
            # Deleted, anonymised or rectified since the message was sent: the
            # token's hash still puts the address it went to on the list.
            unsubscribe_hash_suppress(link=link, source=source)
        if contact is not None:
            contact_unsubscribe(contact=contact, source=source)
        return render(request, "contacts/unsubscribe_done.html")
