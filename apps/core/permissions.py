from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.mixins import PermissionRequiredMixin


class RolePermissionMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Require login, then return 403 (not a login redirect) without permission."""

    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            self.raise_exception = True
        return super().handle_no_permission()
