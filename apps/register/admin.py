from django.contrib import admin
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin_dates import PlausibleDatesMixin
from apps.core.text import newlines_unified
from apps.register.models import ProcessingActivity
from apps.register.models import ReferenceTerm
from apps.register.models import RetentionRule


@admin.register(ReferenceTerm)
class ReferenceTermAdmin(ImportExportModelAdmin):
    list_display = ["label", "kind", "sensitivity", "position"]
    list_filter = ["kind", "sensitivity"]
    search_fields = ["label"]


class RetentionRuleInline(admin.TabularInline):
    model = RetentionRule
    extra = 0


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(PlausibleDatesMixin, SimpleHistoryAdmin):
    """Processing activities in the admin site, without deletion.

    Deletion goes through the register's delete page, whose service rejects an
    activity that contacts, imports or breaches refer to and records the
    deletion in the audit trail. The admin site would delete such an activity
    and unlink its breaches without an audit event.
    """

    list_display = ["reference", "name", "status", "lawful_basis", "owner"]
    list_filter = ["status", "lawful_basis", "role"]
    search_fields = ["reference", "name"]
    inlines = [RetentionRuleInline]

    def save_model(self, request, obj, form, change):
        _newlines_unify(obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            _newlines_unify(instance)
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()

    def has_delete_permission(self, request, obj=None):
        # Also removes the "Delete selected" action from the list.
        return False

    def view_on_site(self, obj):
        return reverse("register:activity-detail", args=[obj.pk])

    def delete_view(self, request, object_id, extra_context=None):
        activity = self.get_object(request, unquote(object_id))
        if activity is None:
            return super().delete_view(request, object_id, extra_context)
        messages.info(
            request,
            _(
                "Processing activities are deleted here, not in the admin site, "
                "because the register rejects the deletion of an activity that "
                "other records refer to."
            ),
        )
        return redirect("register:activity-delete", pk=activity.pk)


def _newlines_unify(instance) -> None:
    """Write the line breaks of the instance's text fields as LF, as the
    register's services store them."""
    for model_field in instance._meta.concrete_fields:
        value = getattr(instance, model_field.attname)
        if isinstance(value, str):
            setattr(instance, model_field.attname, newlines_unified(value))
