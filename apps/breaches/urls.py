app_name = "breaches"

urlpatterns = []
