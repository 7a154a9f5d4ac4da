"""A process that masks its output masks a secret in whatever it prints or logs, whoever wrote
it: prints, log records (through handlers made before masking), tracebacks of threads and of
the process itself."""

import os
import secrets
import subprocess
import sys
import textwrap

SCRIPT = """
    import logging, sys, threading
    from legato._internal.masking import mask_process_output
    from legato._internal.secrets import remember

    early = logging.StreamHandler(sys.stderr)  # holds the unmasked stream
    early.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger().addHandler(early)
    mask_process_output()
    token = sys.argv[1]
    remember(token)

    print("printed", token)
    print(f"json {{\\"k\\": \\"{token}\\"}}")
    logging.getLogger("x").warning("logged %s", token)
    logging.getLogger("x").warning("logged dict %s", {"password": token})
    try:
        raise RuntimeError(f"raised {token}")
    except RuntimeError:
        logging.getLogger("x").exception("caught")

    def fail():
        raise ValueError(f"in a thread {token}")

    thread = threading.Thread(target=fail)
    thread.start()
    thread.join()
    raise KeyError({"nested": token})
"""


def test_a_masked_process_never_prints_or_logs_a_remembered_secret(tmp_path):
    token = secrets.token_urlsafe(18) + "'quote\"double"  # escaped in JSON and in reprs
    script = tmp_path / "leaky.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script), token],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert token not in output and token.split("'")[0] not in output, output
    for masked in (
        "printed ***",
        'json {"k": "***"}',
        "WARNING logged ***",
        "{'password': '***'}",
        "RuntimeError: raised ***",
        "ValueError: in a thread ***",
        "KeyError: {'nested': '***'}",
    ):
        assert masked in output, (masked, output)
