from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

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
class ProcessingActivityAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "name", "status", "lawful_basis", "owner"]
    list_filter = ["status", "lawful_basis", "role"]
    search_fields = ["reference", "name"]
    inlines = [RetentionRuleInline]
