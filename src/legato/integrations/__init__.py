"""Integrations with outside systems: message brokers (``brokers``) and alert channels (``alerts``).

They are Legato's own plugins, declared in its ``pyproject.toml`` under the entry-point groups
``legato.message_sources`` and ``legato.alert_channels`` exactly as a third-party package declares
its own (see ``legato.plugins``): nothing in Legato's core imports this package, it finds them by
name when a source is opened or an alert sent. A broker sits behind an optional extra and imports
its client only when a source is opened, so ``import legato`` never pulls one in. Integrations
use Legato's public model, not its machinery, and are independent of one another (both are
import-linter contracts).
"""
