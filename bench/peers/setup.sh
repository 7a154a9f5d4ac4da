#!/usr/bin/env bash
# Create throwaway virtualenvs for the peer orchestrators that Legato is
# benchmarked against.
#
#   bash bench/peers/setup.sh                       # prefect (+prefect-dask), dagster, luigi
#   WITH_PREFECT_DASK=0 bash bench/peers/setup.sh   # without prefect-dask
#   WITH_AIRFLOW=1 bash bench/peers/setup.sh        # also try apache-airflow (bounded)
#
# Layout: ${PEERS_DIR:-/tmp/peers}/<name>/ is a `python3 -m venv`.
# Idempotent: a venv whose package already imports is left alone.
# Version pins can be overridden, e.g. PREFECT_SPEC='prefect==3.4.0'.
set -euo pipefail

PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
PYTHON="${PYTHON:-python3}"
PREFECT_SPEC="${PREFECT_SPEC:-prefect>=3,<4}"
# Prefect 3.8's API server passes `min_items=` to fastapi.Body(), which
# fastapi 0.155 stopped accepting; without this cap its temporary server
# fails at import.
PREFECT_EXTRA_SPECS="${PREFECT_EXTRA_SPECS:-fastapi<0.155}"
PREFECT_DASK_SPEC="${PREFECT_DASK_SPEC:-prefect-dask}"
DAGSTER_SPEC="${DAGSTER_SPEC:-dagster>=1,<2}"
LUIGI_SPEC="${LUIGI_SPEC:-luigi>=3,<4}"
AIRFLOW_SPEC="${AIRFLOW_SPEC:-apache-airflow}"
AIRFLOW_TIMEOUT="${AIRFLOW_TIMEOUT:-300}"

mkdir -p "$PEERS_DIR"

# pip_install VENV SPEC...: quiet pip, minus the "Location ... is ignored" lines
# that a pip config with missing local index directories prints per package.
pip_install() {
    local venv="$1"
    shift
    "$venv/bin/python" -m pip install --quiet "$@" 2> >(grep -v "is ignored" >&2)
}

# ensure_venv NAME IMPORT_NAME SPEC...
#   Create $PEERS_DIR/NAME unless `import IMPORT_NAME` already works in it.
ensure_venv() {
    local name="$1" module="$2"
    shift 2
    local venv="$PEERS_DIR/$name"
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import $module" 2>/dev/null; then
        echo "[setup] $name: already installed in $venv"
        return 0
    fi
    echo "[setup] $name: creating $venv and installing $*"
    "$PYTHON" -m venv "$venv"
    pip_install "$venv" --upgrade pip
    pip_install "$venv" "$@"
    "$venv/bin/python" -c "import $module"
}

# version NAME DIST: print "DIST==VERSION" as installed in venv NAME
version() {
    local name="$1" dist="$2"
    "$PEERS_DIR/$name/bin/python" - "$dist" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
dist = sys.argv[1]
try:
    print(f"{dist}=={version(dist)}")
except PackageNotFoundError:
    print(f"{dist}: not installed")
EOF
}

ensure_venv prefect prefect.server.api.server "$PREFECT_SPEC" $PREFECT_EXTRA_SPECS
if [[ "${WITH_PREFECT_DASK:-1}" == "1" ]]; then
    if ! "$PEERS_DIR/prefect/bin/python" -c "import prefect_dask" 2>/dev/null; then
        echo "[setup] prefect: adding $PREFECT_DASK_SPEC"
        pip_install "$PEERS_DIR/prefect" "$PREFECT_SPEC" $PREFECT_EXTRA_SPECS "$PREFECT_DASK_SPEC" \
            || echo "[setup] prefect-dask failed to install; Dask mode will be skipped"
    fi
fi
ensure_venv dagster dagster "$DAGSTER_SPEC"
ensure_venv luigi luigi "$LUIGI_SPEC"

if [[ "${WITH_AIRFLOW:-0}" == "1" ]]; then
    # Optional, and bounded: Airflow's dependency tree is large.
    if ! timeout "$AIRFLOW_TIMEOUT" bash -c "$(declare -f pip_install ensure_venv); PEERS_DIR='$PEERS_DIR' PYTHON='$PYTHON' ensure_venv airflow airflow '$AIRFLOW_SPEC'"; then
        echo "[setup] airflow: not installed within ${AIRFLOW_TIMEOUT}s; skipped"
    fi
fi

echo "[setup] installed versions (python: $("$PYTHON" -V 2>&1)):"
version prefect prefect
version prefect prefect-dask
version prefect fastapi
version dagster dagster
version luigi luigi
if [[ -x "$PEERS_DIR/airflow/bin/python" ]]; then
    version airflow apache-airflow
fi
