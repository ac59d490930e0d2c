app_name = "subject_requests"

urlpatterns = []
