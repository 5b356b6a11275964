"""/api/v1/me: who the caller is. Scripts use it to check their token works."""

from django.http import HttpRequest
from ninja import Router, Schema

from accounts.auth import user_auth
from shared.api_schemas import error_responses

router = Router(tags=["accounts"])


class Me(Schema):
    username: str
    is_staff: bool


@router.get(
    "/me",
    response={200: Me, **error_responses(401, 503)},
    auth=user_auth,
    summary="The signed-in user",
)
def me(request: HttpRequest) -> Me:
    """Answers 401 without a valid `Authorization: Bearer <token>` or session."""
    return Me(username=request.auth.username, is_staff=request.auth.is_staff)
