"""Alert channels: Legato's own plugins of the entry-point group ``legato.alert_channels``.

========  =========================  ====================================================
type      class                      sends
========  =========================  ====================================================
webhook   ``alerts.webhook``         the alert as JSON, POSTed to ``url`` with ``headers``
slack     ``alerts.webhook``         ``{"text": ...}`` to a Slack-compatible incoming webhook
email     ``alerts.smtp``            a mail over SMTP (``starttls``, ``user``/``password``)
========  =========================  ====================================================

Each checks its fields when the config loads and imports its client only to send.
"""
