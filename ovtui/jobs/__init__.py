"""Policy jobs: the scheduler that runs balancing and power saving per cluster, the stored plans,
and the service the API and the engine use. APScheduler is imported only by jobs.scheduler."""
