from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    # Django's own form: it checks the password against AUTH_PASSWORD_VALIDATORS.
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class NewTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="What it is for, e.g. “load test” or “my laptop”.",
    )
