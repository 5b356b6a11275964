from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError


class SignUpForm(UserCreationForm):
    """Django's form (passwords checked against AUTH_PASSWORD_VALIDATORS), except that
    it does not tell a script which user names exist.

    Django's own form says "A user with that username already exists." to any post,
    even one with no password: a free, instant test of a name. Here whether a name is
    free is checked last, only for an otherwise complete sign-up, and a taken name (in
    any letter case) gets one generic message. So testing a name costs a whole sign-up,
    counted against SIGNUP_RATE_PER_ADDRESS, and makes an account whenever the name
    was free. What still leaks: a name that gets the message is most likely taken.
    """

    error_messages = {
        **UserCreationForm.error_messages,
        "name_unavailable": "This user name cannot be used. Please choose another one.",
    }

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def clean_username(self) -> str:
        # Only the format here (the field's validators); availability comes last.
        return self.cleaned_data.get("username")

    def validate_unique(self) -> None:
        # The model's own unique check would name a taken name; _post_clean does it.
        pass

    def _post_clean(self) -> None:
        super()._post_clean()  # the model's checks and the password validators
        if not self.errors and self.name_taken(self.cleaned_data["username"]):
            self.add_unavailable_name_error()

    @staticmethod
    def name_taken(username: str) -> bool:
        return get_user_model().objects.filter(username__iexact=username).exists()

    def add_unavailable_name_error(self) -> None:
        message = self.error_messages["name_unavailable"]
        self.add_error("username", ValidationError(message, code="name_unavailable"))


class NewTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="What it is for, e.g. “load test” or “my laptop”.",
    )
