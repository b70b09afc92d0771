"""The console email backend of `make run`: each email framed by a banner, readable as text.

Django's console backend prints the raw MIME message: quoted-printable breaks long links across
lines (with `=` at each break) and the HTML alternative follows the text. Here each email is
printed between two banner lines with its sender, recipients, subject and plain-text body
(decoded, so a verification link copies as one line), and the names of any alternatives or
attachments it also carries. Settings use it when EMAIL_BACKEND is left to the console default.
"""

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

WIDTH = 79


def banner(title: str, fill: str = "=") -> str:
    return f"{fill * 5} {title} ".ljust(WIDTH, fill)


class ConsoleEmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        lines = [
            "",
            banner("EMAIL"),
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        if message.reply_to:
            lines.append(f"Reply-To: {', '.join(message.reply_to)}")
        lines += [f"Subject: {message.subject}", "-" * WIDTH, str(message.body).rstrip()]
        extras = [f"{mimetype} version" for _, mimetype in getattr(message, "alternatives", [])]
        extras += [f"attachment {_attachment_name(item)}" for item in message.attachments]
        if extras:
            lines += ["-" * WIDTH, f"(also carries: {', '.join(extras)}; not shown)"]
        lines += [banner("END OF EMAIL"), ""]
        self.stream.write("\n".join(lines) + "\n")


def _attachment_name(item) -> str:
    if isinstance(item, tuple) or hasattr(item, "filename"):
        return (item.filename if hasattr(item, "filename") else item[0]) or "(unnamed)"
    return item.get_filename() or "(unnamed)"
