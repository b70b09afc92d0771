"""The email outbox in the operator panel: what was sent, what waits, what failed and why.

Staff see the recipient, the template, the subject and the delivery record, never a body: the
license-key and invitation emails carry secrets. Rows are read-only; "Resend now" requeues the
selected emails and tries each at once, and is recorded in the history.
"""

from collections import Counter

from django.contrib import admin, messages
from django.utils.text import Truncator

from qualitybytes import outbox
from qualitybytes.models import OutboxEmail, UnreadableContent


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = [
        "recipient",
        "template",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "template"]
    search_fields = ["recipient"]
    ordering = ["-created_at", "-id"]
    actions = ["resend_now"]
    # The outbox only grows: no COUNT(*) over the whole table on every page.
    show_full_result_count = False
    fields = [
        "recipient",
        "template",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "purged_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The delivery record is kept for audit; bodies are erased by `send_queued_emails`.
        return False

    @admin.display(description="last error")
    def error(self, obj: OutboxEmail) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.display(description="subject")
    def subject(self, obj: OutboxEmail) -> str:
        try:
            return obj.content().subject
        except UnreadableContent as exc:
            return f"({exc})"

    @admin.action(description="Resend now", permissions=["change"])
    def resend_now(self, request, queryset):
        outcomes: Counter = Counter()
        for pk in queryset.values_list("pk", flat=True):
            try:
                email = outbox.resend(pk)
            except UnreadableContent:
                outcomes["purged (not resent)"] += 1
                continue
            outcomes[email.status] += 1
            detail = f": {email.last_error}" if email.last_error else ""
            self.log_change(request, email, f"Resent now by staff; {email.status}{detail}")
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        trouble = set(outcomes) - {"sent"}
        level = messages.WARNING if trouble else messages.SUCCESS
        self.message_user(request, f"Resend now: {summary}.", level)
