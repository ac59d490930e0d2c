from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView
from django.views.generic import TemplateView
from django.views.generic import UpdateView

from apps.core.audit import audit_target_urls
from apps.core.dashboard import dashboard_panels_for
from apps.core.forms import AuditFilterForm
from apps.core.forms import OrganisationForm
from apps.core.models import Organisation
from apps.core.permissions import RolePermissionMixin
from apps.core.selectors import audit_event_list
from apps.core.services import organisation_update


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organisation"] = Organisation.current()
        context["panels"] = dashboard_panels_for(self.request.user)
        return context


class AuditEventListView(RolePermissionMixin, ListView):
    permission_required = "core.view_audit_trail"
    template_name = "core/audit_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.filter_form = AuditFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return audit_event_list(filters=filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = events = list(context["events"])
        urls = audit_target_urls(events, self.request.user)
        for event in events:
            event.target_url = urls.get(event.pk)
        context["filter_form"] = self.filter_form
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context


class OrganisationView(RolePermissionMixin, UpdateView):
    """Show the organisation; only users who may change it get a form that saves."""

    permission_required = "core.view_organisation"
    template_name = "core/organisation.html"
    form_class = OrganisationForm
    success_url = reverse_lazy("core:organisation")

    def get_object(self, queryset=None):
        return Organisation.current()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = self.request.user.has_perm("core.change_organisation")
        # A rejected form has already copied its values onto ``self.object``,
        # so the missing items come from the saved profile.
        context["organisation_missing"] = Organisation.current().missing_items()
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("core.change_organisation"):
            return self.handle_no_permission_for_change()
        return super().post(request, *args, **kwargs)

    def handle_no_permission_for_change(self):
        self.raise_exception = True
        return self.handle_no_permission()

    def form_valid(self, form):
        try:
            organisation_update(
                organisation=self.object,
                values={name: form.cleaned_data[name] for name in form.Meta.fields},
                actor=self.request.user,
                loaded_version=form.cleaned_data["loaded_version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Organisation profile saved."))
        return redirect(self.success_url)
