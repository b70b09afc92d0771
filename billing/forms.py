from django import forms

from billing.models import Interval, Plan


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.public(), to_field_name="slug", empty_label=None)
    interval = forms.ChoiceField(choices=Interval.choices, widget=forms.RadioSelect, initial=Interval.MONTH)
