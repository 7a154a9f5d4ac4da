"""The ``email`` alert channel: one mail per message over SMTP, with STARTTLS and a login if set.

The password must be a secret (``{secret = "NAME"}``): one written in clear is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato.definitions.channels import Channel
from legato.definitions.resources import SecretRef
from legato.integrations.alerts.webhook import text


class EmailChannel:
    """``type = "email"``: ``host``, ``from``, ``to`` (an address or a list); ``port`` (587
    with ``starttls``, else 25), ``starttls``, ``user`` and ``password``."""

    def __init__(self, channel: Channel) -> None:
        channel.check_fields(
            required={"host", "from", "to"}, optional={"port", "starttls", "user", "password"}
        )
        o = channel.options
        to = [o["to"]] if isinstance(o["to"], str) else o["to"]
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(a, str) and "@" in a for a in to)
        ):
            raise channel.error(
                "must be an address or a list of them", 'to = ["a@b.c"]', field="to"
            )
        if not isinstance(o["from"], str) or "@" not in o["from"]:
            raise channel.error("must be an address", 'from = "legato@example.com"', field="from")
        starttls = o.get("starttls", False)
        if not isinstance(starttls, bool):
            raise channel.error("must be true or false", "starttls = true", field="starttls")
        port = o.get("port", 587 if starttls else 25)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise channel.error(f"{port!r} is not a port", "port = 587", field="port")
        password = o.get("password")
        if password is not None and not isinstance(password, SecretRef):
            fix = 'name a secret instead: password = {secret = "SMTP_PASSWORD"}'
            raise channel.error("is written in clear", fix, field="password")
        if (password is None) != (o.get("user") is None):
            raise channel.error("has user or password without the other", "set both, or neither")
        self.channel, self.to, self.port, self.starttls = channel, to, port, starttls

    def send(self, payload: Mapping[str, Any]) -> None:
        import smtplib  # loaded when a message is sent, not when the config loads
        import ssl
        from email.message import EmailMessage

        o = self.channel.options
        mail = EmailMessage()
        mail["From"] = text(o["from"])
        mail["To"] = ", ".join(self.to)
        mail["Subject"] = payload["text"][:200]
        detail = "\n".join(f"{k}: {v}" for k, v in payload.get("detail", {}).items())
        mail.set_content(f"{payload['text']}\n\n{detail}\n")
        with smtplib.SMTP(text(o["host"]), self.port, timeout=self.channel.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if o.get("user") is not None:
                smtp.login(text(o["user"]), text(o["password"]))
            smtp.send_message(mail)
