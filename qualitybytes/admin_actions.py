"""Staff actions that ask for a reason: the machinery the license and key admins (and billing's
extension of the license admin) build their actions from.

An action is a `StaffAction`; a ModelAdmin lists them in `staff_actions` and mixes in
`StaffActionsMixin`, which offers each as a changelist action and as a per-object button
(`<object>/staff/<name>/`), shows a confirmation page with the reason form, applies the action to
each object and records it in the admin history (LogEntry) with who did it and why. An error of
`staff_action_errors` raised by `apply` becomes a warning for that object; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

CONFIRM_LIMIT = 50


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the change and in the admin history. Customers never see it.",
    )


@dataclass(frozen=True)
class StaffAction:
    """An action that asks for a reason; `apply(obj, cleaned_data, user)` returns the history message
    or raises one of the admin's `staff_action_errors`."""

    name: str
    title: str
    intro: str
    button: str
    done: str
    apply: Callable
    form_class: type[forms.Form] = ReasonForm
    danger: bool = False


class StaffActionsMixin:
    """Changelist actions and per-object buttons for `staff_actions`, behind a reason form."""

    staff_actions: list[StaffAction] = []
    staff_action_errors: tuple[type[Exception], ...] = ()
    staff_action_template: str

    def get_urls(self):
        opts = self.model._meta
        urls = [
            path(
                "<path:object_id>/staff/<slug:name>/",
                self.admin_site.admin_view(self.staff_action_view),
                name=f"{opts.app_label}_{opts.model_name}_staff_action",
            )
        ]
        return urls + super().get_urls()

    def _staff_action(self, name: str) -> StaffAction:
        for action in self.staff_actions:
            if action.name == name:
                return action
        raise PermissionDenied

    def staff_action_view(self, request, object_id, name):
        action = self._staff_action(name)
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        opts = self.model._meta
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = self.run_staff_action(
            request, self.get_queryset(request).filter(pk=obj.pk), action, cancel_url=change_url
        )
        return response or HttpResponseRedirect(change_url)

    def run_staff_action(self, request, queryset, action: StaffAction, *, cancel_url: str, selected=False):
        form = action.form_class(request.POST if request.POST.get("confirm") else None)
        if form.is_bound and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    message = action.apply(obj, form.cleaned_data, request.user)
                except self.staff_action_errors as exc:
                    self.message_user(request, f"{obj}: {exc}", messages.WARNING)
                    continue
                self.log_change(request, obj, message)
                done += 1
            if done:
                noun = self.model._meta.verbose_name if done == 1 else self.model._meta.verbose_name_plural
                self.message_user(request, f"{action.done} {done} {noun}.", messages.SUCCESS)
            return None
        objects = list(queryset[:CONFIRM_LIMIT])
        context = {
            **self.admin_site.each_context(request),
            "title": action.title,
            "opts": self.model._meta,
            "action": action,
            "form": form,
            "objects": objects,
            "more": max(queryset.count() - len(objects), 0) if len(objects) == CONFIRM_LIMIT else 0,
            "selected_ids": list(queryset.values_list("pk", flat=True)) if selected else [],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
            "media": self.media,
        }
        return TemplateResponse(request, self.staff_action_template, context)

    def _changelist_action(self, name: str):
        def run(modeladmin, request, queryset):
            opts = modeladmin.model._meta
            cancel = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return modeladmin.run_staff_action(
                request, queryset, modeladmin._staff_action(name), cancel_url=cancel, selected=True
            )

        return run

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for action in self.staff_actions:
                actions[action.name] = (self._changelist_action(action.name), action.name, f"{action.title}…")
        return actions
