"""Roles are Django groups; each domain app lists the permissions of each role.

An app declares ``ROLE_PERMISSIONS`` in its ``roles.py`` module as a mapping from
role name to ``"app_label.codename"`` strings. The groups are created by a data
migration and their permissions are synchronised after every ``migrate``, so a
new app's permissions reach the roles without a hand-written migration.
"""

import logging
from importlib import import_module

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

logger = logging.getLogger(__name__)

COMPLIANCE_OFFICER = "compliance_officer"
SALES = "sales"
DPO = "dpo"
ROLES = (COMPLIANCE_OFFICER, SALES, DPO)

ROLE_PERMISSIONS = {
    COMPLIANCE_OFFICER: [
        "core.view_organisation",
        "core.change_organisation",
        "core.view_audit_trail",
    ],
    SALES: ["core.view_organisation"],
    DPO: ["core.view_organisation", "core.view_audit_trail"],
}


def collect_role_permissions() -> dict[str, set[str]]:
    """Merge ``ROLE_PERMISSIONS`` from every installed app's ``roles`` module."""
    merged: dict[str, set[str]] = {role: set() for role in ROLES}
    for app_config in global_apps.get_app_configs():
        try:
            module = import_module(f"{app_config.name}.roles")
        except ModuleNotFoundError:
            continue
        for role, codes in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged.setdefault(role, set()).update(codes)
    return merged


def roles_sync(*, apps=global_apps, verbosity: int = 0) -> None:
    """Create the role groups and give each exactly its declared permissions."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    for role, codes in collect_role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for code in sorted(codes):
            app_label, codename = code.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                logger.warning("role %s: permission %s does not exist", role, code)
                continue
            permissions.append(permission)
        group.permissions.set(permissions)
        if verbosity >= 2:
            logger.info("role %s has %d permissions", role, len(permissions))


def roles_sync_after_migrate(sender, *, apps=global_apps, verbosity=1, **kwargs):
    # Permissions of apps later in INSTALLED_APPS are created by their own
    # post_migrate signal, which comes after this one, so create them first.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    roles_sync(verbosity=verbosity)
