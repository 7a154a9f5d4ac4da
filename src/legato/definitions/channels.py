"""Alert channels: where an alert message goes. A channel's ``type`` in ``legato.toml`` names the
plugin (entry-point group ``legato.alert_channels``) that sends it; Legato's own ``webhook``,
``slack`` and ``email`` are registered there like any other package's::

    [project.entry-points."legato.alert_channels"]
    pager = "acme_legato.pager:PagerChannel"     # (Channel) -> AlertChannel

The plugin is called with the channel when the config is loaded (every command, ``legato
check``), so it checks the channel's fields there and connects nowhere; the daemon calls it again
to send each message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from legato import plugins
from legato.definitions.plugin_table import PluginTable
from legato.errors import LegatoError

DEFAULT_PER_MINUTE = 30


class DeliveryError(LegatoError):
    """A channel refused a message or could not be reached (the message is retried)."""


@dataclass(frozen=True)
class Channel(PluginTable):
    """One destination, ``[alerts.channels.NAME]``: ``options`` hold its fields besides
    ``type``, ``timeout`` and ``max_per_minute`` (a ``{secret = "NAME"}`` is a ``SecretRef``)."""

    name: str
    type: str
    options: Mapping[str, Any]
    timeout: float = 10.0
    max_per_minute: int = DEFAULT_PER_MINUTE
    source: str = "defaults"
    section: ClassVar[str] = "alerts.channels"
    common: ClassVar[frozenset[str]] = frozenset({"type", "timeout", "max_per_minute"})

    @property
    def noun(self) -> str:
        return "channel"


@runtime_checkable
class AlertChannel(Protocol):
    """What the plugin for a channel's ``type`` returns when called with the :class:`Channel`.

    ``send`` delivers one message: a mapping with ``text`` (one line for chat and mail subjects)
    and the alert's ``alert_id``, ``event`` (firing, resolved), ``kind``, ``subject``,
    ``status``, ``summary``, ``opened_at``, ``resolved_at``, ``occurrences`` and ``detail``.
    It raises :class:`DeliveryError` (or any exception) if the message did not go; the message
    is then retried with back-off. Wait at most ``channel.timeout`` seconds.
    """

    def send(self, payload: Mapping[str, Any]) -> None: ...


def make_channel(channel: Channel) -> AlertChannel:
    """The plugin's sender for ``channel`` (it checks the channel's fields).

    Raises:
        ConfigError: no plugin of the channel's type is installed (naming the installed ones),
            it cannot be imported, or a field of the channel is wrong.
    """
    factory = plugins.load(
        plugins.ALERT_CHANNELS, channel.type, source=f"{channel.source}: {channel.key}.type"
    )
    try:
        sender = factory(channel)
    except LegatoError:
        raise
    except Exception as exc:  # a plugin's own failure: name the channel, not its internals
        problem = f"could not be made by the {channel.type!r} plugin: {type(exc).__name__}: {exc}"
        raise channel.error(problem, f"fix the package that registers {channel.type!r}") from exc
    if not isinstance(sender, AlertChannel):
        fix = f"the {channel.type!r} plugin must return an object with send(payload)"
        raise channel.error(f"was made as {sender!r}, which cannot send", fix)
    return sender
