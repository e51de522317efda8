"""Scrapy settings for the Hub crawler: Scrapy's own keys, then ours grouped under ``HUB_``, ``FETCH_``
and ``EXPOSUREWATCH_``. Every default lives here; the CLI overrides only what the user set."""

from __future__ import annotations

BOT_NAME = "exposurewatch"
USER_AGENT = "exposurewatch/0.1 (+https://github.com/exposurewatch/exposurewatch; leak watch)"
ROBOTSTXT_OBEY = False  # the Hub API is an API, not pages; rate limits are honoured instead
LOG_LEVEL = "WARNING"
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 32
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 4 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
COOKIES_ENABLED = False

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 16.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]  # 429 is handled by HubRateLimitMiddleware

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.HubAuthMiddleware": 350,
    "crawler.middlewares.HubRateLimitMiddleware": 560,
}
ITEM_PIPELINES = {
    "crawler.pipelines.BusPublishPipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.CrawlProgress": 500,
    "crawler.extensions.PrometheusStats": 510,
}

# --- Hub ---------------------------------------------------------------------------------------
HUB_URL = "https://huggingface.co"
HUB_TOKEN = None
HUB_LIST_LIMIT = 1000  # Spaces per listing page; the Hub's maximum keeps a no-change recrawl cheap
HUB_LIST_EXPAND = ["sha", "sdk", "lastModified", "author", "runtime"]
HUB_SEARCH = None
HUB_AUTHOR = None
HUB_RATELIMIT_MAX_WAITS = 20  # per request; then the request fails and is counted
HUB_RATELIMIT_DEFAULT_WAIT = 10.0  # seconds, when a 429 carries no usable header

# --- Fetching one Space ------------------------------------------------------------------------
FETCH_MAX_FILE_BYTES = 2 * 1024 * 1024
FETCH_MAX_SPACE_BYTES = 8 * 1024 * 1024
FETCH_MAX_FILES = 200
FETCH_BATCH = 64  # crawl requests taken from the bus at once; offsets commit after each batch

# --- Recrawl ---------------------------------------------------------------------------------
EXPOSUREWATCH_FULL = False  # ignore recrawl state: fetch every listed Space
# The bus, the store and the progress callback are live objects, so they are handed to the spiders as
# arguments (see crawler.run), not put in settings, which Scrapy copies.

# --- Prometheus --------------------------------------------------------------------------------
EXPOSUREWATCH_METRICS_PORT = None  # serve /metrics on this port (0: any free one); None: no metrics
EXPOSUREWATCH_METRICS_ADDR = "127.0.0.1"
EXPOSUREWATCH_METRICS_FINAL_SCRAPE_TIMEOUT = 20.0  # seconds a finished process waits for a last scrape
