from django.urls import path

from history import views

urlpatterns = [
    path("", views.history, name="history"),
    path("upload/", views.upload, name="history_upload"),
    path("<int:submission_id>/", views.submission, name="submission"),
    path("<int:submission_id>/delete/", views.delete, name="submission_delete"),
]
