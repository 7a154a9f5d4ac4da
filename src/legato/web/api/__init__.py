"""The REST API under ``/api/v1``: one router per resource, each route classified in
``legato.web.policy.POLICY``."""
