from django import forms

from accounts.models import User


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. “CI script”.")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name


class EmailKeysForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The address you signed up with, or another verified address of your account.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class NameForm(forms.ModelForm):
    """The account page's name: shown to team-mates and used in emails instead of the address."""

    class Meta:
        model = User
        fields = ["name"]
        labels = {"name": "Your name"}
        help_texts = {
            "name": "Shown to your team and used in our emails. Leave it empty to go by your email address."
        }
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "name"})}

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if any(not character.isprintable() for character in name):
            raise forms.ValidationError("Use letters, spaces and punctuation only.")
        if "@" in name:
            # Beside the address on team pages, a name that is an address would read as another person.
            raise forms.ValidationError(
                "Your name cannot contain “@”: your email address is shown beside it."
            )
        return name
