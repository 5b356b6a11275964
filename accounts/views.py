"""Sign-up and the account page. Log-in, log-out and password change are Django's own
views (accounts/urls.py) with our templates."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import NewTokenForm, SignUpForm
from accounts.models import ApiToken
from throttling.limits import NEW_TOKEN, SIGNUP, limit_page


@limit_page(SIGNUP)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # the same name, signed up a moment ago by someone else
            form.add_unavailable_name_error()
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("account")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@limit_page(NEW_TOKEN)  # the page's POST makes a token
def account(request: HttpRequest) -> HttpResponse:
    form = NewTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _, new_token = ApiToken.issue(request.user, form.cleaned_data["name"])
        form = NewTokenForm()  # an empty form for the next one
    context = {
        "form": form,
        "new_token": new_token,  # shown once, never stored
        "tokens": ApiToken.objects.for_user(request.user),
    }
    response = render(request, "accounts/account.html", context)
    if new_token:
        response["Cache-Control"] = "no-store"  # a page holding a secret is not cached
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    # Another user's token id is a 404, as if it did not exist.
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("account")
