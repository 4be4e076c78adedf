"""API request metrics: count and duration by route template (never raw paths), method, status."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: The route label of requests that matched no route (scans of random paths stay one series).
UNMATCHED = "unmatched"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["route", "method", "status"]
        self.requests = Counter(
            "ovtui_api_requests",
            "API requests answered, by route template, method and status",
            labels,
            registry=registry,
        )
        self.duration = Histogram(
            "ovtui_api_request_duration_seconds",
            "Time to answer an API request, by route template, method and status",
            labels,
            buckets=BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "ovtui_api_requests_in_flight", "API requests being answered", registry=registry
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route or UNMATCHED, method, str(status))
        self.requests.labels(*labels).inc()
        self.duration.labels(*labels).observe(seconds)
