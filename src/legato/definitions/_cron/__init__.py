"""The one cron engine behind ``Cron`` schedules and time-window partitions.

``grammar`` turns text into the values each field allows (or a ``Problem`` with the fix),
``days`` and ``expression`` count and index the wall times an expression names without walking
them, ``zones`` cuts a time zone's history into stretches of constant UTC offset, and
``timeline`` maps wall times to real instants under the DST policies. Pure: no I/O.
"""
