from django.urls import path

from geo import views

urlpatterns = [
    path("", views.my_map, name="map"),
    path("all/", views.everyones_map, name="map_all"),
]
