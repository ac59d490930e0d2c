from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include
from django.urls import path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("register/", include("apps.register.urls")),
    path("contacts/", include("apps.contacts.urls")),
    path("imports/", include("apps.imports.urls")),
    path("requests/", include("apps.subject_requests.urls")),
    path("breaches/", include("apps.breaches.urls")),
    path("retention/", include("apps.retention.urls")),
    path("", include("apps.core.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
