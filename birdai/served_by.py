"""`X-Served-By: <app server name>` on every answer, when APP_SERVER_NAME names this app
server (empty, the default: no header).

Behind a load balancer, several app servers answer the same site; this header says which
one answered a request, so a load test can count answers per app server and a student can
watch requests spread out (or see which server a failure came from). It is first in
MIDDLEWARE, so the health checks and static files carry it too.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "X-Served-By"


class ServedByMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.APP_SERVER_NAME:
            response[HEADER] = settings.APP_SERVER_NAME
        return response
