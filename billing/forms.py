from django import forms

from billing.models import Interval, Plan


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.public(), to_field_name="slug", empty_label=None)
    interval = forms.ChoiceField(choices=Interval.choices, widget=forms.RadioSelect, initial=Interval.MONTH)


class CancelForm(forms.Form):
    """The cancellation page's confirmation: the POST (CSRF-checked) is the confirmation."""

    confirm = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)
