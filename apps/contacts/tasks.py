from celery import shared_task

from apps.contacts.campaigns import campaign_export_run
from apps.contacts.campaigns import campaign_exports_fail_stalled


@shared_task
def write_campaign_export(export_id: int) -> str:
    """Write the file of a queued campaign export; return its status."""
    export = campaign_export_run(export_id=export_id)
    return export.status if export is not None else "skipped"


@shared_task
def fail_stalled_campaign_exports() -> int:
    """Mark failed the exports that a lost worker left queued or running."""
    return campaign_exports_fail_stalled()
