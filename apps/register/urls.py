app_name = "register"

urlpatterns = []
