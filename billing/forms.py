from django import forms

from billing.models import Interval, Plan


class PlanChoiceForm(forms.Form):
    """A plan and billing interval chosen on the change-plan page (the preview's query string)."""

    plan = forms.ModelChoiceField(
        queryset=Plan.objects.public(),
        to_field_name="slug",
        error_messages={
            "required": "Choose a plan.",
            "invalid_choice": "That plan is not on sale: choose one of the plans listed.",
        },
    )
    interval = forms.ChoiceField(
        choices=Interval.choices,
        error_messages={
            "required": "Choose monthly or yearly billing.",
            "invalid_choice": "Choose monthly or yearly billing.",
        },
    )


class PlanChangeConfirmForm(PlanChoiceForm):
    """The preview's confirmation: the choice it showed and its signed one-time token."""

    token = forms.CharField(
        max_length=1000,
        widget=forms.HiddenInput,
        error_messages={"required": "This confirmation has no token: check the preview and confirm again."},
    )


class CancelForm(forms.Form):
    """The cancellation page's confirmation: the POST (CSRF-checked) is the confirmation."""

    confirm = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)
