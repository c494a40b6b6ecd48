"""`apiaudit monitor PROMETHEUS_URL`: the four monitoring items judged from the team's own Prometheus.

collect.py reads the Prometheus HTTP API (GET only, bounded), evidence.py holds what it read, checks/
judge it. apiaudit's own timings can only say the API is slow; a request-duration histogram, alert
rules and scraped resource series say the team *tracks* latency, errors and saturation.
"""
